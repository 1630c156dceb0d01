"""The refund queue's door on the fake store: a message of either kind read by its type, taken
in, or refused and recorded once with its event (nothing is dropped), run twice = one effect."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.refunds import (
    Accepted,
    CancellationFailed,
    RefundFailed,
    RefundKind,
    RefundState,
)
from domain.shared import Rejected
from tests.fakes import T0, FixedClock
from tests.fakes.refund_store import ORDER_ID, FakeRefundStore, charged_order, request_digest
from workers.doors.refunds.intake import take_in


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(clock: FixedClock) -> FakeRefundStore:
    store = FakeRefundStore(clock)
    store.add_order(charged_order())
    return store


def refund(**changes: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "version": 1,
        "type": "refund.requested",
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_refund_id": "R-1",
        "reason": "customer_return",
        "lines": [{"order_item_id": "ITEM-A", "amounts": {"item_price": Decimal("10.00")}}],
    }
    message.update(changes)
    return message


def cancellation(**changes: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "version": 1,
        "type": "cancellation.requested",
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_cancellation_id": "C-1",
        "reason": "no_inventory",
        "lines": [{"order_item_id": "ITEM-B"}],
    }
    message.update(changes)
    return message


def reasons(result: Accepted | Rejected) -> dict[str, str]:
    assert isinstance(result, Rejected), result
    return {e.field: e.reason for e in result.errors}


def test_a_refund_message_is_taken_in_once(store: FakeRefundStore, clock: FixedClock) -> None:
    first = take_in(refund(), store, clock)
    again = take_in(refund(), store, clock)
    assert isinstance(first, Accepted) and first.created
    assert isinstance(again, Accepted) and not again.created
    assert first.refund.id == again.refund.id
    assert (first.refund.kind, first.refund.state) == (RefundKind.REFUND, RefundState.ACCEPTED)
    assert first.refund.reason == "CustomerReturn"
    assert len(store.rows) == 1 and not store.outbox


def test_a_cancellation_message_is_read_by_its_type(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    result = take_in(cancellation(), store, clock)
    assert isinstance(result, Accepted)
    assert (result.refund.kind, result.refund.reason) == (RefundKind.CANCELLATION, "NoInventory")
    assert result.refund.total.amount == Decimal("11.00")  # what ITEM-B charged


def test_a_malformed_message_is_recorded_once_with_its_event(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    message = refund(reason="because", lines=[{"sku": "MUG-RED"}])
    for _ in range(2):
        found = reasons(take_in(message, store, clock))
    assert set(found) == {"reason", "lines[0]"}
    assert list(store.rejections.values()) == [2]
    (event,) = store.outbox
    assert isinstance(event, RefundFailed)
    assert (event.code, event.refund.platform_id) == ("InvalidRequest", "R-1")
    assert not store.rows


def test_a_message_the_rules_refuse_is_recorded_with_its_kind(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    too_much = cancellation(refund_amount="99.00")
    result = take_in(too_much, store, clock)
    assert "refund_amount" in reasons(result)
    (event,) = store.outbox
    assert isinstance(event, CancellationFailed)
    assert event.refund.platform_id == "C-1" and event.code == "InvalidRequest"


def test_a_conflict_is_recorded_as_one(store: FakeRefundStore, clock: FixedClock) -> None:
    assert isinstance(take_in(refund(), store, clock), Accepted)
    other = refund(lines=[{"order_item_id": "ITEM-A", "amounts": {"item_price": "5.00"}}])
    result = take_in(other, store, clock)
    assert isinstance(result, Rejected) and result.conflict
    (event,) = store.outbox
    assert isinstance(event, RefundFailed) and event.code == "Conflict"


def test_a_decimal_is_recorded_as_its_text_and_a_message_of_no_kind_is_kept_whole(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    message = refund(account="nobody")
    take_in(message, store, clock)
    recorded = {
        **message,
        "lines": [{"order_item_id": "ITEM-A", "amounts": {"item_price": "10.00"}}],
    }
    assert request_digest(RefundKind.REFUND, recorded) in store.rejections
    take_in(["not", "a", "message"], store, clock)
    kept = {"message": ["not", "a", "message"]}
    assert request_digest(RefundKind.REFUND, kept) in store.rejections


@pytest.mark.parametrize("account", ["a\x00b", 2**64, "9" * 30, "n" * 101, True])
def test_a_message_that_cannot_be_filed_under_its_account_is_kept_whole(
    store: FakeRefundStore, clock: FixedClock, account: Any
) -> None:
    message = refund(account=account)
    assert "account" in reasons(take_in(message, store, clock))
    (digest,) = store.rejections
    assert digest != request_digest(RefundKind.REFUND, message)
    assert len(store.outbox) == 1


def test_the_queue_door_reads_version_1_only(store: FakeRefundStore, clock: FixedClock) -> None:
    found = reasons(take_in(refund(version=2), store, clock))
    assert found == {"version": "2 is not a version this channel reads (1)"}
    assert isinstance(take_in(refund(), store, clock), Accepted)
