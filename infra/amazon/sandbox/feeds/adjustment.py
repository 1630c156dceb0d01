"""POST_PAYMENT_ADJUSTMENT_DATA: refunds (and cancelled units) recorded on the order's items.

Each ``AdjustedItem`` (``AmazonOrderItemCode``, ``AdjustmentReason``,
``ItemPriceAdjustments/Component{Type, Amount currency}``, optional ``QuantityCancelled`` and
``MerchantAdjustmentItemID``) is recorded on the item (``SandboxItem.adjustments``) and the
message posts one refund event (``state.finances``). What the XML must hold is checked here
(ResultMessageCode 5001: a missing or unknown reason or type, a type twice, an amount that is
not a decimal); another currency, more units cancelled than remain unshipped and every limit of
``rules.refunds`` (a pending order; a negative credit; tax that is not refundable; a component
never charged, refunded in full before, or refunded beyond what is left; more than the line's
total) are 18002 (18001 for the pending order), each with its own ResultDescription. A message
is applied wholly or not at all.
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
from infra.amazon.sandbox.rules.refunds import (
    AdjustedItem,
    RefundCheck,
    RefundRefused,
    check_order_refundable,
    record,
)
from infra.amazon.sandbox.state import (
    CHARGED_COMPONENTS,
    COMPONENT_TYPES,
    SandboxFeed,
    SandboxOrder,
    SandboxState,
    charged,
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
__all__ = [
    "ADJUSTMENT_REASONS",
    "CHARGED_COMPONENTS",
    "COMPONENT_TYPES",
    "adjust",
    "charged",
]


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
    try:
        check_order_refundable(order)
    except RefundRefused as exc:
        raise MessageError(CODE_ORDER_STATE, exc.message) from None
    action = child_text(body, "ActionType")
    if action is not None and action not in ("Refund", "Cancel"):
        raise MessageError(
            CODE_SCHEMA, f"{path}/ActionType must be Refund or Cancel, not {action!r}"
        )
    elements = children_named(body, "AdjustedItem")
    if not elements:
        raise MessageError(CODE_SCHEMA, f"{path}/AdjustedItem is required")
    # Check every AdjustedItem first: a message is applied wholly or not at all.
    planned: list[AdjustedItem] = []
    checks = RefundCheck(order)
    cancelling: dict[str, int] = {}
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
                shipped = (
                    f"; its {item.quantity_shipped} shipped unit(s) cannot be cancelled"
                    if item.quantity_shipped
                    else ""
                )
                raise MessageError(
                    CODE_INVALID,
                    f"{where}/QuantityCancelled {quantity} is more than the {open_units} unshipped "
                    f"unit(s) of order item {item.order_item_id}{shipped}",
                )
            cancelling[item.order_item_id] = cancelling.get(item.order_item_id, 0) + quantity
        try:
            checks.check(item, components, where)
        except RefundRefused as exc:
            raise MessageError(CODE_INVALID, exc.message) from None
        planned.append(
            AdjustedItem(
                item=item,
                reason=reason,
                components=components,
                quantity_cancelled=quantity,
                merchant_adjustment_item_id=child_text(element, "MerchantAdjustmentItemID"),
            )
        )
    recorded, event = record(
        state, order, planned, source="feed", feed_id=feed.feed_id, message_id=message_id
    )
    return {
        "adjusted": [
            {
                "order_item_id": item.order_item_id,
                "order_adjustment_item_id": adjustment.order_adjustment_item_id,
                "reason": adjustment.reason,
                "total": str(adjustment.total),
                "quantity_cancelled": adjustment.quantity_cancelled,
            }
            for item, adjustment in recorded
        ],
        "refund_event": event.sequence,
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
