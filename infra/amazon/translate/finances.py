"""Finances v0 ``RefundEventList`` entries -> ``domain.refunds.AmazonRefund``, one at a time.

A refund event carries its items in ``ShipmentItemAdjustmentList`` and what went back per item
in ``ItemChargeAdjustmentList``, posted from the seller's side: what the buyer got back is
negative (``Principal`` -20.00), what the seller keeps is positive (``RestockingFee`` +3.00).
The domain wants amounts from the buyer's side (``AmazonRefundItem.amounts``): every credit's
sign is flipped (``ITEM_PRICE`` 20.00), and a component kept back (``KEPT_BACK``: the restocking
fee) is given as the positive amount kept (``RESTOCKING_FEE`` 3.00). Amounts of one component
posted twice for an item are added; a zero amount says nothing and is left out.

Amazon's ``ChargeType`` -> ``Component``: ``CHARGE_COMPONENTS``. A ChargeType not in it (Amazon's
list is open: ``ExportCharge``, ``CODCharge``, ...) has no component in the domain; it is never
dropped silently: each non-zero one comes back in ``TranslatedRefund.unmapped`` (as posted), for
the caller to log. Fees (``ItemFeeAdjustmentList``: the commission Amazon gives back) and
promotions are between Amazon and the seller, not what the buyer got back, and are not read.

An event without what the domain needs (the order id, the posted date, an item, a charge's type,
amount or currency) raises ``TranslationError`` naming the field: the caller sets that event
aside with the reason, and the rest of the page is still read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from domain.refunds import KEPT_BACK, AmazonRefund, AmazonRefundItem, Component
from domain.shared import Money, MoneyError
from infra.amazon.schemas._base import short_error
from infra.amazon.schemas.finances import ChargeComponent, ShipmentEvent, ShipmentItem
from infra.amazon.translate.orders import TranslationError

# Finances' ChargeType -> the component it refunds (note ``ShippingCharge``: the feed's
# ``Shipping``).
CHARGE_COMPONENTS: Mapping[str, Component] = {
    "Principal": Component.ITEM_PRICE,
    "Tax": Component.TAX,
    "ShippingCharge": Component.SHIPPING,
    "ShippingTax": Component.SHIPPING_TAX,
    "GiftWrap": Component.GIFT_WRAP,
    "GiftWrapTax": Component.GIFT_WRAP_TAX,
    "Goodwill": Component.GOODWILL,
    "RestockingFee": Component.RESTOCKING_FEE,
    "ReturnShipping": Component.RETURN_SHIPPING,
}


@dataclass(frozen=True, slots=True)
class UnmappedCharge:
    """A non-zero charge of a refund whose ChargeType has no component, as Amazon posted it."""

    amazon_order_id: str
    order_item_id: str | None
    charge_type: str
    amount: Money  # the seller's side, as posted


@dataclass(frozen=True, slots=True)
class TranslatedRefund:
    refund: AmazonRefund
    unmapped: tuple[UnmappedCharge, ...] = ()


def _money(charge: ChargeComponent, where: str) -> Money:
    currency = charge.charge_amount
    if currency is None:
        raise TranslationError(f"{where}.ChargeAmount is missing")
    if currency.currency_amount is None:
        raise TranslationError(f"{where}.ChargeAmount.CurrencyAmount is missing")
    if not currency.currency_code:
        raise TranslationError(f"{where}.ChargeAmount.CurrencyCode is missing")
    try:
        return Money(currency.currency_amount, currency.currency_code)
    except MoneyError as exc:
        raise TranslationError(f"{where}.ChargeAmount: {exc}") from None


def _text(value: str | None) -> str | None:
    return value if value else None


def _item(
    item: ShipmentItem, order_id: str, where: str
) -> tuple[AmazonRefundItem, list[UnmappedCharge]]:
    charges, name = item.item_charge_adjustment_list, "ItemChargeAdjustmentList"
    if not charges and item.item_charge_list:
        charges, name = item.item_charge_list, "ItemChargeList"
    totals: dict[Component, Money] = {}
    unmapped: list[UnmappedCharge] = []
    for index, charge in enumerate(charges):
        at = f"{where}.{name}[{index}]"
        if not charge.charge_type:
            raise TranslationError(f"{at}.ChargeType is missing")
        posted = _money(charge, at)
        if posted.amount == 0:
            continue
        component = CHARGE_COMPONENTS.get(charge.charge_type)
        if component is None:
            unmapped.append(
                UnmappedCharge(order_id, item.order_item_id, charge.charge_type, posted)
            )
            continue
        # The buyer's side: credits flip sign; what is kept back is the positive amount kept.
        amount = posted.amount if component in KEPT_BACK else -posted.amount
        money = Money(amount, posted.currency)
        before = totals.get(component)
        if before is not None:
            if before.currency != money.currency:
                raise TranslationError(
                    f"{at}: {charge.charge_type} in {money.currency} and in {before.currency}"
                )
            money = before + money
        totals[component] = money
    amounts = tuple(
        (component, totals[component])
        for component in Component
        if component in totals and totals[component].amount != Decimal(0)
    )
    refund_item = AmazonRefundItem(
        order_item_id=_text(item.order_item_id),
        sku=_text(item.seller_sku),
        adjustment_item_id=_text(item.order_adjustment_item_id),
        amounts=amounts,
    )
    return refund_item, unmapped


def refund_to_domain(
    event: ShipmentEvent | Mapping[str, Any], where: str = "RefundEventList[]"
) -> TranslatedRefund:
    """One ``RefundEventList`` entry (validated, or Amazon's JSON as it came) as the domain's
    refund, and the charges it could not place. ``where`` names the entry in a reason."""
    if not isinstance(event, ShipmentEvent):
        try:
            event = ShipmentEvent.model_validate(event)
        except ValidationError as exc:
            raise TranslationError(f"{where}: {short_error(exc)}") from None
    order_id = event.amazon_order_id
    if not order_id:
        raise TranslationError(f"{where}.AmazonOrderId is missing")
    if event.posted_date is None:
        raise TranslationError(f"{where}.PostedDate is missing")
    items, list_name = event.shipment_item_adjustment_list, "ShipmentItemAdjustmentList"
    if not items and event.shipment_item_list:
        items, list_name = event.shipment_item_list, "ShipmentItemList"
    if not items:
        raise TranslationError(f"{where}.ShipmentItemAdjustmentList is empty: no item refunded")
    refund_items: list[AmazonRefundItem] = []
    unmapped: list[UnmappedCharge] = []
    for index, item in enumerate(items):
        refund_item, lost = _item(item, order_id, f"{where}.{list_name}[{index}]")
        refund_items.append(refund_item)
        unmapped.extend(lost)
    refund = AmazonRefund(
        amazon_order_id=order_id,
        posted_at=event.posted_date.astimezone(UTC),
        marketplace_name=_text(event.marketplace_name),
        items=tuple(refund_items),
    )
    return TranslatedRefund(refund=refund, unmapped=tuple(unmapped))
