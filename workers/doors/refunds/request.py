"""The refund and cancellation requests, each written once for every door: the HTTP body, the
queue message (the same plus ``version`` and ``type``) and the CLI's options are these models,
and they make the domain's commands (``IssueRefund``, ``CancelOrder``). Their JSON Schemas
document the API (OpenAPI) and the messages.

Amounts are ``Decimal``: the HTTP and CLI doors parse JSON numbers as decimals, and strings such
as ``"19.99"`` are read as written. A zero amount is no amount: it is left out of the command,
so ``{"tax": "1.00", "shipping": "0"}`` and ``{"tax": "1"}`` are the same refund.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.config import JsonDict

from domain.refunds import (
    FIELD_NAMES,
    KEPT_BACK,
    CancelLineRequest,
    CancelOrder,
    IssueRefund,
    RefundLineRequest,
)
from domain.shared import FieldError
from workers.doors.limits import MAX_ITEMS
from workers.doors.refunds.fields import (
    ONE_REFERENCE,
    AccountRef,
    AmazonOrderId,
    Amount,
    CancelReason,
    Currency,
    ItemRef,
    PlatformCancellationId,
    PlatformRefundId,
    Quantity,
    RefundReason,
    Version,
    amazon_cancel_reason,
    amazon_refund_reason,
    named_once,
)
from workers.doors.refusals import Says, refused

REFUND_TYPE = "refund.requested"
CANCELLATION_TYPE = "cancellation.requested"
TYPE_REASON = f"must be {REFUND_TYPE!r} or {CANCELLATION_TYPE!r}"

REFUND_ITEM = "{order_item_id or sku, amounts or quantity}"
CANCEL_ITEM = "{order_item_id or sku, quantity}"
COMPONENTS = ", ".join(FIELD_NAMES)
AMOUNTS_OBJECT = f"must be an object of amounts per component ({COMPONENTS})"
AMOUNTS_OR_QUANTITY = "give amounts or a quantity (one)"
NOTHING_BACK = (
    "give back more than 0 in one component at least (a restocking_fee is kept back, not "
    "given back)"
)


def _few_lines(value: Any) -> Any:
    if isinstance(value, list) and len(value) > MAX_ITEMS:
        raise refused(f"at most {MAX_ITEMS} lines in one request")
    return value


# --- the refund -------------------------------------------------------------------------------


class RefundAmounts(BaseModel):
    """What goes back per component (a restocking fee: what is kept back, as a positive
    amount). Absent, null and 0 are the same: nothing of that component."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, json_schema_extra={"minProperties": 1}
    )

    item_price: Amount | None = None
    shipping: Amount | None = None
    tax: Amount | None = None
    shipping_tax: Amount | None = None
    gift_wrap: Amount | None = None
    gift_wrap_tax: Amount | None = None
    goodwill: Amount | None = Field(None, description="A credit beyond what the order charged.")
    restocking_fee: Amount | None = Field(
        None, description="Kept back from the refund (given positive; the total is less by it)."
    )
    return_shipping: Amount | None = Field(
        None, description="The buyer's cost of sending the item back, given back."
    )

    def given(self) -> Iterator[tuple[str, Decimal]]:
        """The components with an amount above 0, in ``FIELD_NAMES``' order."""
        for name in FIELD_NAMES:
            amount: Decimal | None = getattr(self, name)
            if amount is not None and amount > 0:
                yield name, amount

    @model_validator(mode="after")
    def _gives_back(self) -> Self:
        if not any(FIELD_NAMES[name] not in KEPT_BACK for name, _ in self.given()):
            raise refused(NOTHING_BACK)
        return self


assert set(RefundAmounts.model_fields) == set(FIELD_NAMES), "one field per component"

_REFUND_LINE_SCHEMA: JsonDict = {
    "allOf": [
        ONE_REFERENCE,
        {
            "oneOf": [
                {"required": ["amounts"], "properties": {"amounts": {"type": "object"}}},
                {"required": ["quantity"], "properties": {"quantity": {"type": "integer"}}},
            ]
        },
    ]
}


def _line_problems(data: Any, *, amounts: bool) -> Any:
    """A line names its item once and, for a refund, gives amounts or a quantity (one)."""
    problems = [named_once(data)]
    if (
        amounts
        and isinstance(data, Mapping)
        and (data.get("amounts") is None) == (data.get("quantity") is None)
    ):
        problems.append(AMOUNTS_OR_QUANTITY)
    found = [p for p in problems if p is not None]
    if found:
        raise refused("; ".join(found))
    return data


class RefundLine(BaseModel):
    """One line of the order, by Amazon's order item id or the seller's SKU, with what goes
    back per component, or a quantity of units (the amounts then come from what the order
    charged for them)."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, json_schema_extra=_REFUND_LINE_SCHEMA
    )

    order_item_id: ItemRef | None = Field(None, description="Amazon's order item id, or ...")
    sku: ItemRef | None = Field(None, description="... the seller's SKU (one item of the order).")
    amounts: Annotated[
        RefundAmounts | None,
        Field(description="What goes back per component, or ..."),
        Says(invalid=AMOUNTS_OBJECT),
    ] = None
    quantity: Annotated[
        Quantity | None,
        Field(description="... the units refunded, their amounts from what the order charged."),
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data: Any) -> Any:
        return _line_problems(data, amounts=True)

    def to_line(self) -> RefundLineRequest:
        given = self.amounts.given() if self.amounts is not None else iter(())
        return RefundLineRequest(
            order_item_id=self.order_item_id,
            sku=self.sku,
            quantity=self.quantity,
            amounts=tuple((FIELD_NAMES[name], amount) for name, amount in given),
        )


def _lines_given(value: Any) -> Any:
    if value is None:  # null reads as absent
        raise refused(f"required: at least one line {REFUND_ITEM}")
    return _few_lines(value)


class RefundRequest(BaseModel):
    """Give this back to the buyer of this order, on Amazon, once."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    account: AccountRef
    amazon_order_id: AmazonOrderId
    platform_refund_id: PlatformRefundId
    reason: RefundReason
    currency: Currency = None
    lines: Annotated[
        list[Annotated[RefundLine, Says(invalid=f"must be an object {REFUND_ITEM}")]],
        BeforeValidator(_lines_given),
        Field(min_length=1, max_length=MAX_ITEMS, description="The lines refunded."),
        Says(f"required: at least one line {REFUND_ITEM}", f"must be a list of {REFUND_ITEM}"),
    ]

    def to_command(self) -> IssueRefund:
        """The domain's command, with Amazon's AdjustmentReason for the reason."""
        return IssueRefund(
            account=self.account,
            amazon_order_id=self.amazon_order_id,
            platform_refund_id=self.platform_refund_id,
            reason=amazon_refund_reason(self.reason),
            lines=tuple(line.to_line() for line in self.lines),
            currency=self.currency,
        )


class RefundMessage(RefundRequest):
    """The queue's message (task ``refund.intake``): the request with its envelope."""

    model_config = ConfigDict(title=f"{REFUND_TYPE}, version 1")

    version: Version
    type: Annotated[Literal["refund.requested"], Says(TYPE_REASON, TYPE_REASON)]


# --- the cancellation -------------------------------------------------------------------------


def _more_than_zero(value: Decimal | None) -> Decimal | None:
    if value is not None and value <= 0:
        raise refused(
            "must be more than 0 (an Amazon order is paid: a cancellation gives back what the "
            "cancelled units charged); leave it out to have that computed"
        )
    return value


class CancelLine(BaseModel):
    """One line to cancel; no quantity: every unit of it not shipped yet."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, json_schema_extra=ONE_REFERENCE
    )

    order_item_id: ItemRef | None = Field(None, description="Amazon's order item id, or ...")
    sku: ItemRef | None = Field(None, description="... the seller's SKU (one item of the order).")
    quantity: Annotated[
        Quantity | None, Field(description="The units cancelled; absent: all not shipped.")
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data: Any) -> Any:
        return _line_problems(data, amounts=False)

    def to_line(self) -> CancelLineRequest:
        return CancelLineRequest(
            order_item_id=self.order_item_id, sku=self.sku, quantity=self.quantity
        )


class CancellationRequest(BaseModel):
    """Cancel these lines of the order (none: the whole order) and give back what they
    charged."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    account: AccountRef
    amazon_order_id: AmazonOrderId
    platform_cancellation_id: PlatformCancellationId
    reason: CancelReason
    lines: Annotated[
        Annotated[
            list[Annotated[CancelLine, Says(invalid=f"must be an object {CANCEL_ITEM}")]],
            Field(max_length=MAX_ITEMS),
        ]
        | None,
        BeforeValidator(_few_lines),
        Field(description="The lines cancelled; empty, null or absent: the whole order."),
        Says(invalid=f"must be a list of {CANCEL_ITEM}"),
    ] = None
    refund_amount: Annotated[
        Amount | None,
        AfterValidator(_more_than_zero),
        Field(
            description="What goes back to the buyer: what the cancelled units charged "
            "(absent: that amount, computed)."
        ),
    ] = None
    currency: Currency = None

    def to_command(self) -> CancelOrder:
        """The domain's command, with Amazon's CancelReason for the reason."""
        return CancelOrder(
            account=self.account,
            amazon_order_id=self.amazon_order_id,
            platform_cancellation_id=self.platform_cancellation_id,
            reason=amazon_cancel_reason(self.reason),
            lines=tuple(line.to_line() for line in self.lines or ()),
            refund_amount=self.refund_amount,
            currency=self.currency,
        )


class CancellationMessage(CancellationRequest):
    """The queue's message (task ``refund.intake``): the request with its envelope."""

    model_config = ConfigDict(title=f"{CANCELLATION_TYPE}, version 1")

    version: Version
    type: Annotated[Literal["cancellation.requested"], Says(TYPE_REASON, TYPE_REASON)]


class RefundRequestRefused(ValueError):
    """A request (or message) the model refused: every field with its reason (the first 50)."""

    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors
