"""POST_PAYMENT_ADJUSTMENT_DATA: refunds (and cancelled units) recorded on the order's items.

Each ``AdjustedItem`` (``AmazonOrderItemCode``, ``AdjustmentReason``,
``ItemPriceAdjustments/Component{Type, Amount currency}``, optional ``QuantityCancelled`` and
``MerchantAdjustmentItemID``) is recorded on the item (``SandboxItem.adjustments``). Refused: a
pending order; an unknown item; a missing or unknown reason or type; another currency; a
negative amount other than ``RestockingFee``; a refund of Principal, Shipping, Tax or
ShippingTax beyond what was charged for it less what was refunded before (so a second full
refund fails); more credited in all than the line's total; more units cancelled than remain
unshipped. A message is applied wholly or not at all.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element

from infra.amazon.sandbox.feeds.envelope import (
    CODE_INVALID,
    CODE_ORDER_STATE,
    CODE_SCHEMA,
    MessageError,
    child_text,
    children_named,
    first_child,
    item_id_of,
    item_of,
    order_of,
    positive_int,
)
from infra.amazon.sandbox.render import shipping_tax
from infra.amazon.sandbox.state import (
    SandboxAdjustment,
    SandboxFeed,
    SandboxItem,
    SandboxOrder,
    SandboxState,
    settle_fulfillment,
    whole_seconds,
)

ADJUSTMENT_REASONS = (
    "NoInventory",
    "CustomerReturn",
    "GeneralAdjustment",
    "CouldNotShip",
    "DifferentItem",
    "Abandoned",
    "CustomerCancel",
    "PriceError",
    "ProductOutofStock",
    "CustomerAddressIncorrect",
    "Exchange",
    "Other",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "TransactionRecord",
    "Undeliverable",
    "RefusedDelivery",
    "BuyerCanceled",
)
# Components refunded against a charge of their own; the rest only against the line's total.
CHARGED_COMPONENTS = ("Principal", "Shipping", "Tax", "ShippingTax", "GiftWrap", "GiftWrapTax")
COMPONENT_TYPES = (*CHARGED_COMPONENTS, "RestockingFee", "ReturnShipping", "Goodwill", "Other")


def charged(item: SandboxItem, currency: str) -> dict[str, Decimal]:
    """What the buyer paid for the line, by adjustment component type."""
    ship_tax = shipping_tax(item, currency)
    return {
        "Principal": item.unit_price * item.quantity,
        "Shipping": item.shipping_price,
        "Tax": item.tax - ship_tax,
        "ShippingTax": ship_tax,
        "GiftWrap": Decimal(0),
        "GiftWrapTax": Decimal(0),
    }


def _refunded(item: SandboxItem) -> dict[str, Decimal]:
    done: dict[str, Decimal] = {}
    for adjustment in item.adjustments:
        for kind, amount in adjustment.components:
            done[kind] = done.get(kind, Decimal(0)) + amount
    return done


def adjust(
    state: SandboxState, feed: SandboxFeed, body: Element, message_id: int
) -> dict[str, Any]:
    path = "OrderAdjustment"
    order = order_of(state, feed, body, path)
    try:
        return _adjust_order(state, feed, order, body, message_id, path)
    except MessageError as exc:
        exc.order_id = order.order_id
        raise


def _adjust_order(
    state: SandboxState,
    feed: SandboxFeed,
    order: SandboxOrder,
    body: Element,
    message_id: int,
    path: str,
) -> dict[str, Any]:
    if order.pending:
        raise MessageError(
            CODE_ORDER_STATE, f"Order {order.order_id} is pending: nothing was charged to adjust"
        )
    action = child_text(body, "ActionType")
    if action is not None and action not in ("Refund", "Cancel"):
        raise MessageError(
            CODE_SCHEMA, f"{path}/ActionType must be Refund or Cancel, not {action!r}"
        )
    elements = children_named(body, "AdjustedItem")
    if not elements:
        raise MessageError(CODE_SCHEMA, f"{path}/AdjustedItem is required")
    # Check every AdjustedItem first: a message is applied wholly or not at all.
    planned: list[tuple[SandboxItem, SandboxAdjustment]] = []
    in_message: dict[str, dict[str, Decimal]] = {}
    cancelling: dict[str, int] = {}
    now = whole_seconds(state.now())
    for index, element in enumerate(elements):
        where = f"{path}/AdjustedItem[{index}]"
        item = item_of(order, item_id_of(element, where), where)
        reason = child_text(element, "AdjustmentReason")
        if reason is None:
            raise MessageError(CODE_SCHEMA, f"{where}/AdjustmentReason is required")
        if reason not in ADJUSTMENT_REASONS:
            raise MessageError(
                CODE_SCHEMA,
                f"{where}/AdjustmentReason {reason!r} is not one of {list(ADJUSTMENT_REASONS)}",
            )
        prices = first_child(element, "ItemPriceAdjustments")
        if prices is None:
            raise MessageError(CODE_SCHEMA, f"{where}/ItemPriceAdjustments is required")
        components = _components(prices, order.currency, f"{where}/ItemPriceAdjustments")
        quantity = 0
        raw_quantity = child_text(element, "QuantityCancelled")
        if raw_quantity is not None:
            quantity = positive_int(raw_quantity, f"{where}/QuantityCancelled")
            open_units = item.quantity_open - cancelling.get(item.order_item_id, 0)
            if quantity > open_units:
                raise MessageError(
                    CODE_INVALID,
                    f"{where}/QuantityCancelled {quantity} is more than the {open_units} unshipped "
                    f"unit(s) of order item {item.order_item_id}",
                )
            cancelling[item.order_item_id] = cancelling.get(item.order_item_id, 0) + quantity
        _check_amounts(item, order.currency, components, in_message, where)
        planned.append(
            (
                item,
                SandboxAdjustment(
                    feed_id=feed.feed_id,
                    message_id=message_id,
                    reason=reason,
                    currency=order.currency,
                    components=components,
                    quantity_cancelled=quantity,
                    merchant_adjustment_item_id=child_text(element, "MerchantAdjustmentItemID"),
                    posted_at=now,
                ),
            )
        )
    for item, adjustment in planned:
        item.adjustments.append(adjustment)
        if adjustment.quantity_cancelled:
            item.quantity_cancelled += adjustment.quantity_cancelled
            item.seller_cancel_reason = adjustment.reason
    if cancelling:
        settle_fulfillment(order)
        state.touch(order)
    return {
        "adjusted": [
            {
                "order_item_id": item.order_item_id,
                "reason": adjustment.reason,
                "total": str(adjustment.total),
                "quantity_cancelled": adjustment.quantity_cancelled,
            }
            for item, adjustment in planned
        ],
        "order_status": order.status,
    }


def _components(prices: Element, currency: str, path: str) -> tuple[tuple[str, Decimal], ...]:
    found: list[tuple[str, Decimal]] = []
    for index, component in enumerate(children_named(prices, "Component")):
        where = f"{path}/Component[{index}]"
        kind = child_text(component, "Type")
        if kind is None:
            raise MessageError(CODE_SCHEMA, f"{where}/Type is required")
        if kind not in COMPONENT_TYPES:
            raise MessageError(
                CODE_SCHEMA, f"{where}/Type {kind!r} is not one of {list(COMPONENT_TYPES)}"
            )
        if any(kind == seen for seen, _ in found):
            raise MessageError(CODE_SCHEMA, f"{where}/Type {kind} appears twice")
        amount_element = first_child(component, "Amount")
        raw = child_text(component, "Amount")
        if amount_element is None or raw is None:
            raise MessageError(CODE_SCHEMA, f"{where}/Amount is required")
        sent_currency = amount_element.get("currency")
        if sent_currency != currency:
            raise MessageError(
                CODE_INVALID,
                f"{where}/Amount currency {sent_currency!r} is not the order's {currency}",
            )
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise MessageError(CODE_SCHEMA, f"{where}/Amount {raw!r} is not a decimal") from None
        if not amount.is_finite():
            raise MessageError(CODE_SCHEMA, f"{where}/Amount {raw!r} is not a decimal")
        found.append((kind, amount))
    if not found:
        raise MessageError(CODE_SCHEMA, f"{path}/Component is required")
    return tuple(found)


def _check_amounts(
    item: SandboxItem,
    currency: str,
    components: tuple[tuple[str, Decimal], ...],
    in_message: dict[str, dict[str, Decimal]],
    where: str,
) -> None:
    """Refunds within what was charged (per charged component, and in all for the line)."""
    paid = charged(item, currency)
    before = _refunded(item)
    pending = in_message.setdefault(item.order_item_id, {})
    for kind, amount in components:
        if kind == "RestockingFee":
            if amount > 0:
                raise MessageError(
                    CODE_INVALID, f"{where}: a RestockingFee is kept back, so it must be negative"
                )
        elif amount < 0:
            raise MessageError(
                CODE_INVALID,
                f"{where}: {kind} {amount} is negative; refunds are credits to the buyer",
            )
        if kind in paid and amount > 0:
            done = before.get(kind, Decimal(0)) + pending.get(kind, Decimal(0))
            left = paid[kind] - done
            if amount > left:
                raise MessageError(
                    CODE_INVALID,
                    f"{where}: refund of {kind} {amount} {currency} exceeds the "
                    f"{max(left, Decimal(0))} {currency} left to refund (charged {paid[kind]}, "
                    f"refunded {done})",
                )
    net = sum((amount for _, amount in components), Decimal(0))
    if net < 0:
        raise MessageError(
            CODE_INVALID, f"{where}: the net adjustment {net} is not a credit to the buyer"
        )
    line_total = item.unit_price * item.quantity + item.shipping_price + item.tax
    credited = sum(before.values(), Decimal(0)) + sum(pending.values(), Decimal(0)) + net
    if credited > line_total:
        raise MessageError(
            CODE_INVALID,
            f"{where}: {credited} {currency} credited in all would exceed the line's total of "
            f"{line_total} {currency}",
        )
    for kind, amount in components:
        pending[kind] = pending.get(kind, Decimal(0)) + amount
