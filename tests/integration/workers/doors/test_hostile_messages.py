"""Hostile input through the queue door on the real store: a message the store could not hold
as sent (NUL, lone surrogates, ids past bigint, ``"²"``, calendar edges, deep JSON, NaN, no
object at all) is refused with its reason and recorded, never lost and never a crash of the
worker; hypothesis sends arbitrary JSON and mutated messages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.fulfilments import Rejected
from domain.orders import AmazonOrder
from infra.db.tables import FulfilmentLine as FulfilmentLineRow
from infra.db.tables import RejectedFulfilment
from tests.integration.workers.fulfilments import RecordingSender, body, count
from workers import bootstrap
from workers.doors.fulfilments import take_in_message

pytestmark = pytest.mark.integration

ENVELOPE = {"version": 1, "type": "fulfilment.requested"}
ACCOUNT_ID = "an account id is a whole number from 1 to 9223372036854775807, in the digits 0-9"


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def recorded(container: bootstrap.Container) -> list[Any]:
    with container.engine.connect() as conn:
        return list(conn.execute(select(RejectedFulfilment).order_by(RejectedFulfilment.id)))


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"account": "ac\x00me"}, "account", "U+0000"),
        ({"account": "\ud800"}, "account", "is not valid Unicode text"),
        ({"account": 2**63}, "account", ACCOUNT_ID),
        ({"account": "99999999999999999999"}, "account", ACCOUNT_ID),
        ({"account": "²"}, "account", ACCOUNT_ID),
        ({"amazon_order_id": "1" * 500}, "amazon_order_id", "longer than 40"),
        ({"amazon_order_id": "113\x00"}, "amazon_order_id", "U+0000"),
        ({"platform_fulfilment_id": ["F", 1]}, "platform_fulfilment_id", "must be a string"),
        ({"tracking_number": "1Z\ud800"}, "tracking_number", "is not valid Unicode text"),
        ({"shipped_at": "0001-01-01T00:00:00+14:00"}, "shipped_at", "must lie between"),
        ({"shipped_at": "9999-12-31T23:59:59-14:00"}, "shipped_at", "must lie between"),
        ({"lines": [{"sku": "MUG-RED", "quantity": 2**31}]}, "lines[0].quantity", "at most"),
        ({"lines": [{"sku": "MUG-RED", "quantity": float("nan")}]}, "lines[0].quantity", "whole"),
        ({"col\x00our": "\ud800"}, "col\\u0000our", "unknown field"),
        ({"deep": nested(40)}, "message", "nested deeper than 32 levels"),
    ],
)
def test_a_message_the_store_cannot_hold_is_refused_and_recorded(
    container: bootstrap.Container,
    order: AmazonOrder,
    changes: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    message = {**ENVELOPE, **body(order), **changes}
    result = take_in_message(message, app=RecordingSender())
    assert isinstance(result, Rejected)
    assert reason in {e.field: e.reason for e in result.errors}[field]
    (row,) = recorded(container)
    assert {
        "field": field,
        "reason": next(e.reason for e in result.errors if e.field == field),
    } in (row.errors)
    assert count(container.engine, FulfilmentLineRow) == 0


def test_a_message_filed_under_an_account_keeps_its_order_and_id(
    container: bootstrap.Container, order: AmazonOrder
) -> None:
    take_in_message({**ENVELOPE, **body(order, shipped_at="0001-01-01T00:00:00+14:00")})
    (row,) = recorded(container)
    assert (row.account_ref, row.amazon_order_id) == ("acme", order.amazon_order_id)
    assert row.request["shipped_at"] == "0001-01-01T00:00:00+14:00"


def test_a_message_whose_account_cannot_be_looked_up_is_kept_whole(
    container: bootstrap.Container, order: AmazonOrder
) -> None:
    take_in_message({**ENVELOPE, **body(order, account="ac\x00me", tracking_number="\ud800")})
    (row,) = recorded(container)
    assert row.account_ref is None
    assert row.request["message"]["account"] == "ac\\u0000me"  # written out, not lost
    assert row.request["message"]["tracking_number"] == "\\ud800"


@pytest.mark.parametrize(
    "message", ["text with \x00", ["a", "list"], 7, None, float("inf"), 2**70, [[[[[]]]]]]
)
def test_a_message_that_is_no_object_is_recorded_with_its_reason(
    container: bootstrap.Container, message: Any
) -> None:
    result = take_in_message(message)
    assert isinstance(result, Rejected)
    assert [(e.field, e.reason) for e in result.errors] == [("message", "must be a JSON object")]
    (row,) = recorded(container)
    assert row.errors == [{"field": "message", "reason": "must be a JSON object"}]
    assert "message" in row.request


def test_a_message_of_many_unknown_fields_is_recorded_with_a_short_list(
    container: bootstrap.Container, order: AmazonOrder
) -> None:
    message = {**ENVELOPE, **body(order), **{f"k{i:05d}": i for i in range(20_000)}}
    result = take_in_message(message)
    assert isinstance(result, Rejected) and len(result.errors) == 51
    (row,) = recorded(container)
    assert len(row.errors) == 51
    assert row.errors[-1]["reason"].startswith("19950 more not listed")


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    mutations=st.dictionaries(
        st.sampled_from(
            [
                "version",
                "type",
                "account",
                "amazon_order_id",
                "platform_fulfilment_id",
                "shipped_at",
                "carrier_code",
                "carrier_name",
                "tracking_number",
                "lines",
                "cancellation_request_reviewed",
                "colour",
            ]
        ),
        json_values,
        max_size=4,
    ),
    whole=st.one_of(st.none(), json_values),
)
def test_any_message_is_taken_in_or_recorded_with_its_reasons_never_a_crash(
    container: bootstrap.Container, order: AmazonOrder, mutations: dict[str, Any], whole: Any
) -> None:
    message = whole if whole is not None else {**ENVELOPE, **body(order), **mutations}
    before = len(recorded(container))
    result = take_in_message(message, app=RecordingSender())
    if isinstance(result, Rejected):
        assert result.errors and len(result.errors) <= 51
        rows = recorded(container)
        # recorded once per distinct message (a repeat counts times_seen)
        assert len(rows) in (before, before + 1)
        assert any(
            r.errors == [{"field": e.field, "reason": e.reason} for e in result.errors]
            for r in rows
        )
