"""The fields the refund and the cancellation requests share, with their refusals: the account,
ids and texts the store can hold, the reasons in Amazon's lists, a currency, and amounts of
money read as ``Decimal`` (never a float) within the currency's decimal places.

An amount's decimal places depend on the request's ``currency``, a field of its own: the door
reads it first (``currency_of``) and holds it in ``in_currency`` while the model validates, so
every amount is refused at its own path (``lines[0].amounts.tax``), each with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema
from pydantic.config import JsonDict

from domain.refunds import (
    ADJUSTMENT_REASONS,
    CANCEL_REASONS,
    adjustment_reason,
    cancel_reason,
)
from domain.refunds.amounts import minor_digits
from domain.refunds.components import CANCEL_REASON_NAMES, REFUND_REASONS
from workers.doors.limits import BIGINT_MAX, ID_RANGE, INT4_MAX, ascii_id, shown, text_problem
from workers.doors.refusals import Says, refused

# The queue message's envelope: the format this channel reads.
MESSAGE_VERSION = 1

NON_EMPTY = "must be a non-empty string"
WHOLE_NUMBER = "must be a whole number of at least 1"
ACCOUNT_ID = f"an account id is {ID_RANGE}, in the digits 0-9"
CURRENCY = "must be an ISO 4217 currency code such as 'USD'"
# The largest amount taken: the store keeps 14 digits before the point, and a refund's total
# (up to 100 lines of 9 components) must fit there too.
MAX_AMOUNT = Decimal("9999999999.99")
AMOUNT = 'must be a decimal amount: a string such as "19.99", or a number'
_DECIMAL = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,40})?")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")

# The currency the amounts being validated are in (None: not given, 2 decimal places).
_CURRENCY: ContextVar[str | None] = ContextVar("refund_request_currency", default=None)


def stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def blank_is_none(value: Any) -> Any:
    value = stripped(value)
    return None if value == "" else value


def _storable(value: str) -> str:
    """Text the store can hold, without control characters (ids, names and codes are read by
    people)."""
    problem = text_problem(value)
    if problem is not None:
        raise refused(problem)
    return value


def _text(limit: int) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=limit)


Storable = AfterValidator(_storable)


def _account_ref(value: Any) -> Any:
    """An account is named, or given by its id (a JSON integer: never a boolean)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= BIGINT_MAX:
            raise refused(ACCOUNT_ID)
        return str(value)
    return stripped(value)


def _account_checked(value: str) -> str:
    """A name of digits is read as an id: ASCII digits within the id column's range only."""
    _storable(value)
    if value.isdigit() and ascii_id(value) is None:
        raise refused(ACCOUNT_ID)
    return value


AccountRef = Annotated[
    str,
    BeforeValidator(
        _account_ref, json_schema_input_type=str | Annotated[int, Field(ge=1, le=BIGINT_MAX)]
    ),
    _text(100),
    AfterValidator(_account_checked),
    Field(description="The seller account's name, or its id."),
    Says("required: the seller account"),
]
AmazonOrderId = Annotated[
    str,
    BeforeValidator(stripped),
    _text(40),
    Storable,
    Field(description="Amazon's order id."),
    Says("required: Amazon's order id"),
]


PlatformRefundId = Annotated[
    str,
    BeforeValidator(stripped),
    _text(100),
    Storable,
    Field(description="The store's id of this refund; unique per account."),
    Says("required: the store's id of this refund"),
]
PlatformCancellationId = Annotated[
    str,
    BeforeValidator(stripped),
    _text(100),
    Storable,
    Field(description="The store's id of this cancellation; unique per account."),
    Says("required: the store's id of this cancellation"),
]

# An order item's reference: Amazon's order item id or the seller's SKU.
ItemRef = Annotated[
    str, BeforeValidator(stripped), _text(100), Storable, Says(NON_EMPTY, NON_EMPTY)
]
Quantity = Annotated[int, Field(ge=1, le=INT4_MAX), Says(WHOLE_NUMBER, WHOLE_NUMBER)]

# JSON Schema cannot say "exactly one of two optional fields" with required alone: each branch
# also asks for the field's type, so a null counts as absent, as the model reads it.
ONE_REFERENCE: JsonDict = {
    "oneOf": [
        {"required": [name], "properties": {name: {"type": "string"}}}
        for name in ("order_item_id", "sku")
    ]
}
ITEM_NAMED = "name the item by order_item_id or by sku (one)"


def named_once(data: Any) -> str | None:
    """Why a line does not name its item exactly once, or None."""
    if isinstance(data, Mapping) and (data.get("order_item_id") is None) == (
        data.get("sku") is None
    ):
        return ITEM_NAMED
    return None


# --- reasons ----------------------------------------------------------------------------------


def _reason_of(
    value: str, amazons: tuple[str, ...], platforms: Mapping[str, str], what: str
) -> str:
    if value in amazons or value in platforms:
        return value
    raise refused(
        f"{shown(value)} is not a {what} reason: one of {', '.join(platforms)}, or Amazon's "
        f"own ({', '.join(amazons)})"
    )


def _refund_reason(value: str) -> str:
    return _reason_of(value, ADJUSTMENT_REASONS, REFUND_REASONS, "refund")


def _cancel_reason(value: str) -> str:
    return _reason_of(value, CANCEL_REASONS, CANCEL_REASON_NAMES, "cancellation")


RefundReason = Annotated[
    str,
    BeforeValidator(stripped),
    _text(60),
    Storable,
    AfterValidator(_refund_reason),
    Field(
        description="Why: the platform's reason (customer_return, no_inventory, ...) or Amazon's "
        "AdjustmentReason (CustomerReturn, ...); sent to Amazon as its AdjustmentReason."
    ),
    Says("required: why the refund is made (customer_return, goodwill, ...)"),
]
CancelReason = Annotated[
    str,
    BeforeValidator(stripped),
    _text(60),
    Storable,
    AfterValidator(_cancel_reason),
    Field(
        description="Why: the platform's reason (buyer_canceled, no_inventory, ...) or Amazon's "
        "CancelReason (BuyerCanceled, ...); sent to Amazon as its CancelReason."
    ),
    Says("required: why the order is cancelled (buyer_canceled, no_inventory, ...)"),
]


def amazon_refund_reason(given: str) -> str:
    """Amazon's AdjustmentReason of a reason the model took."""
    found = adjustment_reason(given)
    assert found is not None  # the model took only reasons that have one
    return found


def amazon_cancel_reason(given: str) -> str:
    """Amazon's CancelReason of a reason the model took."""
    found = cancel_reason(given)
    assert found is not None
    return found


# --- currency and amounts ---------------------------------------------------------------------


def _currency(value: Any) -> Any:
    value = blank_is_none(value)
    if isinstance(value, str):
        if len(value) != 3 or not _CURRENCY_CODE.fullmatch(value.upper()):
            raise refused(f"{shown(value)} is not an ISO 4217 currency code (such as 'USD')")
        return value.upper()
    return value


Currency = Annotated[
    Annotated[str, Field(pattern="^[A-Za-z]{3}$")] | None,
    BeforeValidator(_currency),
    Field(description="ISO 4217; when given, it must be the order's."),
    Says(invalid=CURRENCY),
]


def currency_of(data: Any) -> str | None:
    """The currency a request's amounts are in, as the model will read it; None when it gives
    none or one the model refuses (that refusal is its own, and amounts then take 2 places)."""
    if not isinstance(data, Mapping):
        return None
    given = data.get("currency")
    if not isinstance(given, str):
        return None
    code = given.strip().upper()
    return code if _CURRENCY_CODE.fullmatch(code) else None


@contextmanager
def in_currency(currency: str | None) -> Iterator[None]:
    """Amounts validated in this block are held to ``currency``'s decimal places."""
    token = _CURRENCY.set(currency)
    try:
        yield
    finally:
        _CURRENCY.reset(token)


def _amount(value: Any) -> Decimal:
    """A JSON number (read as ``Decimal`` at the doors; a float a queue's JSON parser made is
    read by its shortest spelling, which is the number its JSON text had), or a decimal string
    in ASCII digits. Never negative, never past ``MAX_AMOUNT``."""
    if isinstance(value, bool):
        raise refused(AMOUNT)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            raise refused(f'{shown(value)} is not a decimal amount such as "19.99"')
        number = Decimal(text)
    else:
        raise refused(AMOUNT)
    if not number.is_finite():
        raise refused(f"{shown(value)} is not a finite amount")
    if number < 0:
        raise refused("must not be negative")
    if number > MAX_AMOUNT:
        raise refused(f"must be at most {MAX_AMOUNT}")
    return number


def _in_minor_units(number: Decimal) -> Decimal:
    currency = _CURRENCY.get()
    places = minor_digits(currency or "")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        where = f" ({currency})" if currency else ""
        if places == 0:
            raise refused(f"must be a whole amount{where}, with no decimal places")
        raise refused(f"at most {places} decimal places{where}")
    return number


_AMOUNT_SCHEMA: JsonDict = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*$"},
        {"type": "number", "minimum": 0},
    ],
    "description": 'A decimal amount: "19.99" (a string, best) or a number; the currency\'s '
    "decimal places at most (2 when no currency is given).",
}
Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    AfterValidator(_in_minor_units),
    WithJsonSchema(_AMOUNT_SCHEMA),
    Says("required: an amount", AMOUNT),
]


def message_version(value: Any) -> Any:
    if isinstance(value, bool) or value != MESSAGE_VERSION:
        raise refused(f"{shown(value)} is not a version this channel reads ({MESSAGE_VERSION})")
    return value


Version = Annotated[
    Literal[1],
    BeforeValidator(message_version),
    Field(description="The message format; this channel reads 1."),
    Says(f"required: the message format's version ({MESSAGE_VERSION})"),
]
