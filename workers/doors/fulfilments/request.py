"""The fulfilment request, written once for every door: the HTTP body, the queue message (the
same plus ``version`` and ``type``) and the CLI's options are this model, and it makes the
domain's command. Its JSON Schema documents the API (OpenAPI) and the message."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from domain.fulfilments import (
    OTHER_CARRIER,
    FieldError,
    InvalidRequest,
    LineRequest,
    RequestFulfilment,
    amazon_carrier_code,
)
from domain.shared import TimeOutsideCalendar, TimeRefused, parse_utc
from workers.doors.limits import (
    BIGINT_MAX,
    DEPTH_REASON,
    ID_RANGE,
    INT4_MAX,
    MAX_ITEMS,
    WINDOW,
    ascii_id,
    in_window,
    shown,
    text_problem,
    too_deep,
)
from workers.doors.refusals import Says, refused, validated

# The queue message's envelope: the format this channel reads, and the kind of message.
MESSAGE_VERSION = 1
MESSAGE_TYPE = "fulfilment.requested"

ITEM = "{order_item_id or sku, quantity}"
NON_EMPTY = "must be a non-empty string"
WHOLE_NUMBER = "must be a whole number of at least 1"
TIME_REQUIRED = "required: an ISO 8601 time with its zone"


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _blank_is_none(value: Any) -> Any:
    value = _stripped(value)
    return None if value == "" else value


ACCOUNT_ID = f"an account id is {ID_RANGE}, in the digits 0-9"


def _account_ref(value: Any) -> Any:
    """An account is named, or given by its id (a JSON integer: never a boolean)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= BIGINT_MAX:
            raise refused(ACCOUNT_ID)
        return str(value)
    return _stripped(value)


def _account_checked(value: str) -> str:
    """A name of digits is read as an id (so the store is asked for that id): ASCII digits
    within the id column's range only."""
    _storable(value)
    if value.isdigit() and ascii_id(value) is None:
        raise refused(ACCOUNT_ID)
    return value


def _storable(value: str) -> str:
    """Text the store can hold, and without control characters (every field here is read by
    people: an id, a name, a tracking number)."""
    problem = text_problem(value)
    if problem is not None:
        raise refused(problem)
    return value


def _utc(value: Any) -> Any:
    """An ISO 8601 time with its zone, as UTC (a time without a zone is ambiguous: refused),
    within the window of times the channel deals in: the parse never overflows."""
    if not isinstance(value, str) or not value.strip():
        raise refused(TIME_REQUIRED)
    try:
        utc = parse_utc(value)
    except TimeOutsideCalendar:  # a time at the calendar's edge is outside the window too
        raise refused(f"{shown(value)} {WINDOW}") from None
    except TimeRefused as exc:
        raise refused(f"{shown(value)} {exc}") from None
    if not in_window(utc):
        raise refused(f"{shown(value)} {WINDOW}")
    return utc


def _few_lines(value: Any) -> Any:
    if isinstance(value, list) and len(value) > MAX_ITEMS:
        raise refused(f"at most {MAX_ITEMS} lines in one fulfilment (one package)")
    return value


def _text(limit: int) -> StringConstraints:
    return StringConstraints(min_length=1, max_length=limit)


# Text the store can hold, validated after its length (so a long one is not scanned).
Storable = AfterValidator(_storable)
# An order item's reference: Amazon's order item id or the seller's SKU.
ItemRef = Annotated[
    str, BeforeValidator(_stripped), _text(100), Storable, Says(NON_EMPTY, NON_EMPTY)
]
# Optional text: blank is the same as absent.
OptionalText = Annotated[
    Annotated[str, StringConstraints(max_length=100), Storable] | None,
    BeforeValidator(_blank_is_none),
]

# JSON Schema cannot say "exactly one of two optional fields" with required alone: each branch
# also asks for a string, so a null counts as absent, as the model reads it.
_ONE_REFERENCE: JsonDict = {
    "oneOf": [
        {"required": [name], "properties": {name: {"type": "string"}}}
        for name in ("order_item_id", "sku")
    ]
}


class FulfilmentLine(BaseModel):
    """One line of the package: an order item, named by Amazon's id or by the seller's SKU."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, json_schema_extra=_ONE_REFERENCE
    )

    order_item_id: ItemRef | None = Field(None, description="Amazon's order item id, or ...")
    sku: ItemRef | None = Field(None, description="... the seller's SKU (one item of the order).")
    quantity: Annotated[int, Field(ge=1, le=INT4_MAX), Says(WHOLE_NUMBER, WHOLE_NUMBER)]

    @model_validator(mode="before")
    @classmethod
    def _named_once(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and (data.get("order_item_id") is None) == (
            data.get("sku") is None
        ):
            raise refused("name the item by order_item_id or by sku (one)")
        return data

    def to_line(self) -> LineRequest:
        return LineRequest(quantity=self.quantity, order_item_id=self.order_item_id, sku=self.sku)


class FulfilmentRequest(BaseModel):
    """Ship these lines of this order in one package, as the store shipped it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    account: Annotated[
        str,
        BeforeValidator(
            _account_ref,
            json_schema_input_type=str | Annotated[int, Field(ge=1, le=BIGINT_MAX)],
        ),
        _text(100),
        AfterValidator(_account_checked),
        Field(description="The seller account's name, or its id."),
        Says("required: the seller account"),
    ]
    amazon_order_id: Annotated[str, BeforeValidator(_stripped), _text(40), Storable]
    platform_fulfilment_id: Annotated[
        str,
        BeforeValidator(_stripped),
        _text(100),
        Storable,
        Field(description="The store's id of this fulfilment; unique per account."),
    ]
    shipped_at: Annotated[
        datetime,
        BeforeValidator(_utc),
        Field(
            description="When the store shipped it: ISO 8601 with a zone. Sent to Amazon as the "
            "ship date (never the time of sending).",
            json_schema_extra={"format": "date-time"},
        ),
        Says(TIME_REQUIRED),
    ]
    carrier_code: Annotated[
        str,
        BeforeValidator(_stripped),
        _text(60),
        Storable,
        Field(
            description="Amazon's carrier code (UPS, USPS, FedEx, DHL, Royal Mail ...), or "
            "'Other' with carrier_name."
        ),
        Says("required: Amazon's carrier code, or 'Other'"),
    ]
    # Checked together with carrier_code (validated before it), also when absent.
    carrier_name: OptionalText = Field(None, validate_default=True)
    shipping_method: OptionalText = None
    tracking_number: Annotated[
        str,
        BeforeValidator(_stripped),
        _text(100),
        Storable,
        Says("required: the carrier's tracking number"),
    ]
    lines: Annotated[
        Annotated[
            list[Annotated[FulfilmentLine, Says(invalid=f"must be an object {ITEM}")]],
            Field(max_length=MAX_ITEMS),
        ]
        | None,
        BeforeValidator(_few_lines),
        Field(description="What the package holds; empty or absent: all that remains unshipped."),
        Says(invalid=f"must be a list of {ITEM}"),
    ] = None
    cancellation_request_reviewed: bool = Field(
        False,
        description="True ships it although the buyer asked to cancel (after checking).",
    )

    @field_validator("carrier_name")
    @classmethod
    def _carrier_named(cls, name: str | None, info: ValidationInfo) -> str | None:
        code = info.data.get("carrier_code")
        if code is None or name is not None:  # a refused code is reported on its own
            return name
        known = amazon_carrier_code(code)
        if known == OTHER_CARRIER:
            raise refused("required when carrier_code is 'Other'")
        if known is None:
            raise refused(
                f"{code!r} is not a carrier code Amazon knows: use one of Amazon's codes "
                "(UPS, USPS, FedEx, DHL, Royal Mail ...), or give carrier_name too "
                "(it goes to Amazon as 'Other' with that name)",
                field="carrier_code",
            )
        return name

    def to_command(self) -> RequestFulfilment:
        """The domain's command: Amazon's spelling of the carrier ("ups" -> "UPS"; a carrier
        Amazon does not know goes as 'Other' with its name), the ship time in UTC."""
        return RequestFulfilment(
            account=self.account,
            amazon_order_id=self.amazon_order_id,
            platform_fulfilment_id=self.platform_fulfilment_id,
            shipped_at=self.shipped_at,
            carrier_code=amazon_carrier_code(self.carrier_code) or OTHER_CARRIER,
            carrier_name=self.carrier_name,
            shipping_method=self.shipping_method,
            tracking_number=self.tracking_number,
            lines=tuple(line.to_line() for line in self.lines or ()),
            cancellation_request_reviewed=self.cancellation_request_reviewed,
        )


def _message_version(value: Any) -> Any:
    if isinstance(value, bool) or value != MESSAGE_VERSION:
        raise refused(f"{shown(value)} is not a version this channel reads ({MESSAGE_VERSION})")
    return value


class FulfilmentMessage(FulfilmentRequest):
    """The queue's message (task ``fulfil.intake``): the request with its envelope."""

    model_config = ConfigDict(title=f"{MESSAGE_TYPE}, version {MESSAGE_VERSION}")

    version: Annotated[
        Literal[1],
        BeforeValidator(_message_version),
        Field(description="The message format; this channel reads 1."),
        Says(f"required: the message format's version ({MESSAGE_VERSION})"),
    ]
    type: Annotated[
        Literal["fulfilment.requested"],
        Says(f"must be {MESSAGE_TYPE!r}", f"must be {MESSAGE_TYPE!r}"),
    ]


def message_schema() -> dict[str, Any]:
    """The JSON Schema of ``FulfilmentMessage``, for the platform's producers."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **FulfilmentMessage.model_json_schema(),
    }


# What the rules are asked with in place of a field the model refused (``workers.doors.recheck``):
# none of these is what the rules check, and their word on it is dropped.
STAND_INS: dict[str, Any] = {
    "platform_fulfilment_id": "-",
    "shipped_at": "2000-01-01T00:00:00Z",
    "carrier_code": "UPS",
    "carrier_name": None,
    "shipping_method": None,
    "tracking_number": "-",
    "cancellation_request_reviewed": True,
    "version": MESSAGE_VERSION,
    "type": MESSAGE_TYPE,
}


def read_request(data: Any) -> RequestFulfilment:
    """The command from a request's JSON (the HTTP body, the CLI's options), or
    ``InvalidRequest`` naming every field with its reason (the first 50: see ``capped``)."""
    return _read(FulfilmentRequest, data, "body")


def read_message(message: Any) -> RequestFulfilment:
    """The command from a queue message (the request with ``version`` and ``type``), or
    ``InvalidRequest`` naming every field with its reason (the first 50)."""
    return _read(FulfilmentMessage, message, "message")


def _read(model: type[FulfilmentRequest], data: Any, root: str) -> RequestFulfilment:
    if too_deep(data):
        raise InvalidRequest([FieldError(root, DEPTH_REASON)])
    found = validated(model, data, root=root)
    if isinstance(found, tuple):
        raise InvalidRequest(found)
    return found.to_command()
