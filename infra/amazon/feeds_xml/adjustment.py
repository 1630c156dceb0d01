"""POST_PAYMENT_ADJUSTMENT_DATA: one ``OrderAdjustment`` message per refund (or partial
cancellation) of one order, in ``OrderAdjustment.xsd``'s order::

    OrderAdjustment
      AmazonOrderID
      AdjustedItem (one per line)
        AmazonOrderItemCode
        MerchantAdjustmentItemID   our refund line's id (it comes back in settlements)
        AdjustmentReason
        ItemPriceAdjustments
          Component  Type, Amount currency="USD"   (one per component)
        QuantityCancelled          only when units are cancelled (> 0)

Amounts are credits to the buyer, written with two decimals; a ``RestockingFee`` is kept back
and is always sent negative, whichever sign the message gives it. An amount with more than two
decimals is refused rather than rounded (rounding would change what the buyer gets).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from decimal import Decimal

from domain.feeds import AdjustedItem, AdjustmentMessage
from domain.refunds import ADJUSTMENT_REASONS, KEPT_BACK, Component
from domain.shared import Money
from infra.amazon.feeds_xml.envelope import (
    FeedDocumentError,
    check_messages,
    envelope,
    message,
    required,
    text,
    to_bytes,
)

MESSAGE_TYPE = "OrderAdjustment"
_CENT = Decimal("0.01")
_TYPES = frozenset(component.value for component in Component)
_KEPT_BACK_TYPES = frozenset(component.value for component in KEPT_BACK)


def amount_text(money: Money, where: str) -> str:
    """An amount as Amazon's ``BaseCurrencyAmount``: two decimals, never rounded."""
    quantized = money.amount.quantize(_CENT)
    if quantized != money.amount:
        raise FeedDocumentError(f"{where}: {money.amount} has more than two decimals")
    return format(quantized, "f")


def _item(parent: ET.Element, item: AdjustedItem, currency: list[str], where: str) -> None:
    element = ET.SubElement(parent, "AdjustedItem")
    text(
        element, "AmazonOrderItemCode", required(item.order_item_id, f"{where}/AmazonOrderItemCode")
    )
    if item.merchant_adjustment_item_id and item.merchant_adjustment_item_id.strip():
        text(element, "MerchantAdjustmentItemID", item.merchant_adjustment_item_id.strip())
    if item.reason not in ADJUSTMENT_REASONS:
        raise FeedDocumentError(
            f"{where}/AdjustmentReason {item.reason!r} is not one of Amazon's reasons"
        )
    text(element, "AdjustmentReason", item.reason)
    if not item.components:
        raise FeedDocumentError(f"{where}/ItemPriceAdjustments needs at least one Component")
    prices = ET.SubElement(element, "ItemPriceAdjustments")
    seen: set[str] = set()
    for index, (kind, money) in enumerate(item.components):
        at = f"{where}/ItemPriceAdjustments/Component[{index}]"
        if kind not in _TYPES:
            raise FeedDocumentError(f"{at}/Type {kind!r} is not a component Amazon adjusts")
        if kind in seen:
            raise FeedDocumentError(f"{at}/Type {kind} appears twice")
        seen.add(kind)
        if currency and money.currency != currency[0]:
            raise FeedDocumentError(
                f"{at}/Amount is in {money.currency}; the message is in {currency[0]}"
            )
        currency[:1] = [money.currency]
        amount = -abs(money.amount) if kind in _KEPT_BACK_TYPES else money.amount
        component = ET.SubElement(prices, "Component")
        text(component, "Type", kind)
        written = text(component, "Amount", amount_text(Money(amount, money.currency), at))
        written.set("currency", money.currency)
    if isinstance(item.quantity_cancelled, bool) or not isinstance(item.quantity_cancelled, int):
        raise FeedDocumentError(f"{where}/QuantityCancelled is not a whole number")
    if item.quantity_cancelled < 0:
        raise FeedDocumentError(f"{where}/QuantityCancelled {item.quantity_cancelled} is negative")
    if item.quantity_cancelled > 0:
        text(element, "QuantityCancelled", str(item.quantity_cancelled))


def adjustment_document(merchant_identifier: str, messages: Sequence[AdjustmentMessage]) -> bytes:
    """The feed document of these refunds for one seller (``merchant_identifier``)."""
    check_messages((m.message_id for m in messages), "POST_PAYMENT_ADJUSTMENT_DATA")
    root = envelope(merchant_identifier, MESSAGE_TYPE)
    for adjustment in messages:
        where = f"Message {adjustment.message_id}: {MESSAGE_TYPE}"
        body = message(root, adjustment.message_id, MESSAGE_TYPE)
        text(body, "AmazonOrderID", required(adjustment.amazon_order_id, f"{where}/AmazonOrderID"))
        if not adjustment.items:
            raise FeedDocumentError(f"{where}/AdjustedItem: a message needs at least one item")
        currency: list[str] = []
        for index, item in enumerate(adjustment.items):
            _item(body, item, currency, f"{where}/AdjustedItem[{index}]")
    return to_bytes(root)
