"""Property tests of the door's parsers (hypothesis): whatever a client sends, a time, an id, a
quantity, a text or a whole request either parses to a value the store can hold or is refused
with a reason; nothing else is ever raised. Money (the Amazon side's parser) likewise."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fulfilments import InvalidRequest
from domain.shared import Money, MoneyError
from workers.doors.fulfilments import read_message, read_request
from workers.doors.limits import (
    BIGINT_MAX,
    EARLIEST,
    INT4_MAX,
    LATEST,
    MAX_DEPTH,
    ascii_id,
    capped,
    storable,
    text_problem,
    too_deep,
)

ANY_CHAR = st.characters(exclude_categories=())  # surrogates and control characters too
ANY_TEXT = st.text(ANY_CHAR, max_size=30)


def request(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": "113-0000001-0000001",
        "platform_fulfilment_id": "F-1",
        "shipped_at": "2026-11-01T11:30:00+01:00",
        "carrier_code": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"sku": "MUG-RED", "quantity": 1}],
    }
    return {**base, **changes}


def outcome(data: Any) -> Any:
    """The command, or the refusals; anything else raised fails the property."""
    try:
        return read_request(data)
    except InvalidRequest as exc:
        assert exc.errors and len(exc.errors) <= 51
        for error in exc.errors:
            json.dumps({"field": error.field, "reason": error.reason}).encode()
            error.field.encode()  # printable: no lone surrogate left to break an encoder
            error.reason.encode()
        return exc.errors


def storable_text(value: str) -> bool:
    return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)


# --- timestamps -----------------------------------------------------------------------------


@given(ANY_TEXT)
def test_any_text_as_a_time_parses_into_the_window_or_is_refused(text: str) -> None:
    found = outcome(request(shipped_at=text))
    if not isinstance(found, tuple):
        assert found.shipped_at.tzinfo is UTC and EARLIEST <= found.shipped_at < LATEST


@given(
    st.datetimes(),  # naive, from year 1 to 9999
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
def test_a_time_at_any_offset_never_overflows(moment: datetime, offset_minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    found = outcome(request(shipped_at=aware.isoformat()))
    if isinstance(found, tuple):
        assert {e.field for e in found} == {"shipped_at"}
        assert "must lie between 2000-01-01 and 2100-01-01 (UTC)" in found[0].reason
    else:
        assert found.shipped_at == aware.astimezone(UTC)


# --- ids and quantities -----------------------------------------------------------------------


@given(st.one_of(ANY_TEXT, st.from_regex(r"\A0*[0-9]{1,25}\Z"), st.integers().map(str)))
def test_an_id_is_ascii_digits_within_bigint_or_none(text: str) -> None:
    number = ascii_id(text)
    if number is None:
        assert not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= BIGINT_MAX
    else:
        assert 1 <= number <= BIGINT_MAX and str(number) == text.lstrip("0")


@given(
    st.one_of(
        st.integers(), ANY_TEXT, st.from_regex("\\A[0-9\u00b2\u00b3\u00b9\u0660-\u0669]{1,25}\\Z")
    )
)
def test_an_account_is_a_name_or_an_id_the_store_can_look_up(account: Any) -> None:
    found = outcome(request(account=account))
    if not isinstance(found, tuple):
        assert storable_text(found.account) and len(found.account) <= 100
        if found.account.isdigit():
            assert ascii_id(found.account) is not None


@given(st.one_of(st.integers(), st.floats(), st.booleans(), ANY_TEXT))
def test_a_quantity_is_within_the_columns_range_or_refused(quantity: Any) -> None:
    found = outcome(request(lines=[{"sku": "MUG-RED", "quantity": quantity}]))
    if not isinstance(found, tuple):
        assert 1 <= found.lines[0].quantity <= INT4_MAX
        assert type(quantity) is int


def test_free_text_may_hold_a_newline_but_never_nul_or_a_lone_surrogate() -> None:
    assert text_problem("two\nlines", free_text=True) is None
    assert (
        text_problem("two\nlines") == "must not contain control characters (U+000A at character 4)"
    )
    assert text_problem("nul\x00", free_text=True) == (
        "must not contain control characters (U+0000 at character 4)"
    )
    assert text_problem("a\udc80", free_text=True) == (
        "is not valid Unicode text (a lone surrogate at character 2)"
    )
    assert text_problem("Zoë ☃ 東京") is None


# --- text, and whole requests -------------------------------------------------------------------


@given(ANY_TEXT)
def test_text_is_accepted_only_when_the_store_can_hold_it(text: str) -> None:
    found = outcome(request(tracking_number=text))
    if not isinstance(found, tuple):
        assert storable_text(found.tracking_number)
        assert text_problem(found.tracking_number) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=15,
)


@settings(max_examples=300)
@given(json_values, st.dictionaries(st.sampled_from(sorted(request())), json_values))
def test_any_json_is_a_command_or_refusals_never_an_error(whole: Any, fields: Any) -> None:
    outcome(whole)
    outcome(request(**fields))
    with contextlib.suppress(InvalidRequest):
        read_message({"version": 1, "type": "fulfilment.requested", **request(**fields)})


@given(st.integers(min_value=0, max_value=200))
def test_depth_is_refused_past_the_limit_at_any_depth(depth: int) -> None:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    assert too_deep(value) is (depth > MAX_DEPTH)


@given(json_values)
def test_what_is_recorded_of_a_message_is_plain_json_without_nul_or_surrogates(value: Any) -> None:
    text = json.dumps(storable(value), allow_nan=False, ensure_ascii=False)
    assert storable_text(text)
    text.encode()


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=0, max_value=10))
def test_at_most_fifty_errors_are_listed_and_the_rest_counted(n: int, also: int) -> None:
    from domain.fulfilments import FieldError

    errors = [FieldError(f"f{i}", "unknown field") for i in range(n)]
    listed = capped(errors, also=also)
    assert len(listed) <= 51 and capped(listed) == listed
    if n + also > 50 and (n > 50 or also):
        assert listed[-1].field == "errors"
        assert listed[-1].reason.startswith(f"{max(0, n - 50) + also} more")


# --- money ----------------------------------------------------------------------------------------


@given(ANY_TEXT | st.decimals().map(str), st.text(max_size=4))
def test_money_parses_to_a_finite_decimal_or_is_refused(amount: str, currency: str) -> None:
    try:
        money = Money.parse(amount, currency)
    except MoneyError:
        return
    assert isinstance(money.amount, Decimal) and money.amount.is_finite()
    assert len(money.currency) == 3
