"""Finances v0 as pydantic models: the parts of ``listFinancialEvents*`` and
``listFinancialEventGroups`` we read, named as Amazon's model (``financesV0.json``) names them.

v0 speaks PascalCase. Amazon's model makes every field optional, and so do these: what a use
needs (an order id, a posted date, a currency) is demanded where it is used
(``infra.amazon.translate.finances``), with a reason naming the field. A list Amazon sends as
``null`` reads as empty. Amounts are ``Decimal``: the family reads the JSON with its numbers as
decimals (``infra.amazon.api.finances``), so no amount ever passes through a float.

The event lists of a page validate each event on its own: one that does not parse (a posted
date without a zone, an amount that is not a number) is set aside in ``unparsed_events`` with
the list it came in, its order id and the reason, and the rest of the page still reads.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from infra.amazon.schemas._base import PascalModel, short_error

_T = TypeVar("_T")


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


# A list of Amazon's model: absent or ``null`` is empty.
Items = Annotated[list[_T], BeforeValidator(_none_as_empty)]


class Currency(PascalModel):
    """Amazon's ``Currency``: an amount (``BigDecimal``, a JSON number) and its ISO 4217 code."""

    currency_code: str | None = None
    currency_amount: Decimal | None = None


class ChargeComponent(PascalModel):
    charge_type: str | None = None  # Principal, Tax, ShippingCharge, ... (an open set)
    charge_amount: Currency | None = None


class FeeComponent(PascalModel):
    fee_type: str | None = None  # Commission, FBAPerUnitFulfillmentFee, ... (an open set)
    fee_amount: Currency | None = None


class ShipmentItem(PascalModel):
    seller_sku: str | None = Field(default=None, alias="SellerSKU")
    order_item_id: str | None = None
    order_adjustment_item_id: str | None = None
    quantity_shipped: int | None = None
    item_charge_list: Items[ChargeComponent] = []
    item_charge_adjustment_list: Items[ChargeComponent] = []
    item_fee_list: Items[FeeComponent] = []
    item_fee_adjustment_list: Items[FeeComponent] = []


class ShipmentEvent(PascalModel):
    """A ``ShipmentEvent``: the shape of ``ShipmentEventList`` and ``RefundEventList`` entries
    alike (a refund carries its items in ``ShipmentItemAdjustmentList``)."""

    amazon_order_id: str | None = None
    seller_order_id: str | None = None
    marketplace_name: str | None = None
    store_name: str | None = None
    posted_date: AwareDatetime | None = None
    order_charge_list: Items[ChargeComponent] = []
    order_charge_adjustment_list: Items[ChargeComponent] = []
    shipment_fee_list: Items[FeeComponent] = []
    shipment_fee_adjustment_list: Items[FeeComponent] = []
    order_fee_list: Items[FeeComponent] = []
    order_fee_adjustment_list: Items[FeeComponent] = []
    shipment_item_list: Items[ShipmentItem] = []
    shipment_item_adjustment_list: Items[ShipmentItem] = []


class UnparsedEvent(BaseModel):
    """An event of a page that did not validate: kept raw, with the list it was in and why."""

    model_config = ConfigDict(frozen=True)

    event_list: str  # ShipmentEventList, RefundEventList
    amazon_order_id: str | None
    error: str
    raw: dict[str, Any] = Field(repr=False)


# The event lists read, by Amazon's name.
EVENT_LISTS = ("ShipmentEventList", "RefundEventList")


class FinancialEvents(PascalModel):
    """``FinancialEvents``: the shipment and refund lists (the many other lists are ignored)."""

    shipment_event_list: Items[ShipmentEvent] = []
    refund_event_list: Items[ShipmentEvent] = []
    unparsed_events: list[UnparsedEvent] = []

    @model_validator(mode="before")
    @classmethod
    def _set_aside_bad_events(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        unparsed: list[UnparsedEvent] = []
        for name in EVENT_LISTS:
            events = data.get(name)
            if not isinstance(events, list):
                continue
            good: list[ShipmentEvent] = []
            for event in events:
                try:
                    good.append(ShipmentEvent.model_validate(event))
                except ValidationError as exc:
                    raw = event if isinstance(event, dict) else {"value": event}
                    order_id = raw.get("AmazonOrderId")
                    unparsed.append(
                        UnparsedEvent(
                            event_list=name,
                            amazon_order_id=order_id if isinstance(order_id, str) else None,
                            error=short_error(exc),
                            raw=raw,
                        )
                    )
            data[name] = good
        if unparsed:
            data["UnparsedEvents"] = unparsed
        return data


class ListFinancialEventsPayload(PascalModel):
    """The ``payload`` of ``listFinancialEvents``, ``...ByOrderId`` and ``...ByGroupId``."""

    next_token: str | None = None
    financial_events: FinancialEvents = Field(default_factory=FinancialEvents)


class FinancialEventGroup(PascalModel):
    financial_event_group_id: str | None = None
    processing_status: str | None = None  # Open | Closed
    fund_transfer_status: str | None = None
    original_total: Currency | None = None
    converted_total: Currency | None = None
    fund_transfer_date: AwareDatetime | None = None
    trace_id: str | None = None
    account_tail: str | None = Field(default=None, repr=False)  # the bank account's last digits
    beginning_balance: Currency | None = None
    financial_event_group_start: AwareDatetime | None = None
    financial_event_group_end: AwareDatetime | None = None


class ListFinancialEventGroupsPayload(PascalModel):
    next_token: str | None = None
    financial_event_group_list: Items[FinancialEventGroup] = []
