"""POST_ORDER_ACKNOWLEDGEMENT_DATA: ``Success`` changes nothing; ``Failure`` cancels.

``Failure`` cancels the whole order (no ``Item``; refused once anything shipped) or the
unshipped units of the listed items, with their ``CancelReason`` (none given: GeneralAdjustment
is recorded). Cancelling what is already cancelled is a warning, not an error, so a resent feed
is harmless.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from infra.amazon.sandbox.feeds.envelope import (
    CODE_NOTHING_TO_DO,
    CODE_ORDER_STATE,
    CODE_SCHEMA,
    MessageError,
    child_text,
    children_named,
    item_id_of,
    item_of,
    order_of,
)
from infra.amazon.sandbox.state import (
    SandboxFeed,
    SandboxItem,
    SandboxState,
    settle_fulfillment,
)

CANCEL_REASONS = (
    "NoInventory",
    "ShippingAddressUndeliverable",
    "CustomerExchange",
    "BuyerCanceled",
    "GeneralAdjustment",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "CustomerReturn",
    "MerchandiseNotReceived",
)


def acknowledge(
    state: SandboxState, feed: SandboxFeed, body: Element, message_id: int
) -> dict[str, Any]:
    path = "OrderAcknowledgement"
    order = order_of(state, feed, body, path)
    oid = order.order_id
    status_code = child_text(body, "StatusCode")
    if status_code not in ("Success", "Failure"):
        raise MessageError(
            CODE_SCHEMA,
            f"{path}/StatusCode must be Success or Failure, not {status_code!r}",
            order_id=oid,
        )
    listed: list[tuple[SandboxItem, str | None]] = []
    for index, element in enumerate(children_named(body, "Item")):
        where = f"{path}/Item[{index}]"
        try:
            item = item_of(order, item_id_of(element, where), where)
        except MessageError as exc:
            exc.order_id = oid
            raise
        reason = child_text(element, "CancelReason")
        if reason is not None and reason not in CANCEL_REASONS:
            raise MessageError(
                CODE_SCHEMA,
                f"{where}/CancelReason {reason!r} is not one of {list(CANCEL_REASONS)}",
                order_id=oid,
            )
        listed.append((item, reason))
    if status_code == "Success":
        return {"acknowledged": True}
    if order.fulfilled_by != "MERCHANT":
        raise MessageError(
            CODE_ORDER_STATE,
            f"Order {oid} is fulfilled by Amazon and cannot be cancelled",
            order_id=oid,
        )
    if not listed:
        if order.status == "CANCELLED":
            raise MessageError(
                CODE_NOTHING_TO_DO, f"Order {oid} is already cancelled", warning=True, order_id=oid
            )
        if any(i.quantity_shipped for i in order.items):
            raise MessageError(
                CODE_ORDER_STATE,
                f"Order {oid} has shipped units and cannot be cancelled as a whole; cancel the "
                "unshipped items instead",
                order_id=oid,
            )
        listed = [(item, None) for item in order.items]
    to_cancel: list[tuple[SandboxItem, str | None]] = []
    for item, reason in listed:
        if item.quantity_open > 0:
            to_cancel.append((item, reason))
        elif not item.quantity_cancelled:
            raise MessageError(
                CODE_ORDER_STATE,
                f"Order item {item.order_item_id} has shipped in full and cannot be cancelled",
                order_id=oid,
            )
    if not to_cancel:
        raise MessageError(
            CODE_NOTHING_TO_DO,
            f"The listed items of order {oid} are already cancelled",
            warning=True,
            order_id=oid,
        )
    cancelled = []
    for item, reason in to_cancel:
        units = item.quantity_open
        item.quantity_cancelled += units
        item.seller_cancel_reason = reason or "GeneralAdjustment"
        cancelled.append({"order_item_id": item.order_item_id, "quantity": units, "reason": reason})
    settle_fulfillment(order)
    state.touch(order)
    return {"cancelled": cancelled, "order_status": order.status}
