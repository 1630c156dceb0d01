"""Control API, finances: a refund made in Seller Central, every adjustment of an order, the
"tax not refundable" switch, and the financial events and groups as Amazon would list them.

- ``POST /_sandbox/orders/{orderId}/seller-central-refunds`` ``{"reason": "CustomerReturn",
  "items": [{"order_item_id": "...", "components": [{"type": "Principal", "amount": "10.00"},
  ...]}]}``: the seller refunds by hand. Components by the adjustment feed's Type names
  (``Principal``, ``Shipping``, ``Tax``, ``ShippingTax``, ``GiftWrap``, ``GiftWrapTax``,
  ``Goodwill``, ``ReturnShipping``, ``Other``: credits, positive; ``RestockingFee``: kept back,
  negative), amounts in the order's currency; the limits are the adjustment feed's
  (``rules.refunds``), a refusal is 400 ``{"error"}`` naming the field. Records one adjustment
  per item (source ``seller_central``) and posts one refund event; answers 201 ``{order_id,
  adjustments, refund_event}``.
- ``GET /_sandbox/orders/{orderId}/adjustments``: every adjustment of the order, oldest first
  (``{order_id, count, adjustments: [{order_item_id, source: feed|seller_central, feed_id,
  message_id, merchant_adjustment_item_id, order_adjustment_item_id, reason, currency,
  components: [{type, amount}], total, quantity_cancelled, posted_time}]}``).
- ``POST /_sandbox/orders/{orderId}/tax-refundable`` ``{"refundable": false}``: from now on a
  refund of ``Tax`` or ``ShippingTax`` on this order fails with Amazon's text "The requested
  refund amount for the tax or shipping tax is not eligible" (feed and Seller Central alike).
- ``GET /_sandbox/finances/events?seller_id=&order_id=``: every event, as
  ``{sequence, kind: shipment|refund, order_id, group_id, posted_time, currency, net, event}``
  with ``event`` the ``ShipmentEvent`` JSON the Finances API shows.
- ``GET /_sandbox/finances/groups?seller_id=``: the groups as listFinancialEventGroups shows
  them, each with its ``event_count``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.feeds import ADJUSTMENT_REASONS
from infra.amazon.sandbox.render_finances import event_json, group_json
from infra.amazon.sandbox.rules.refunds import (
    AdjustedItem,
    RefundCheck,
    check_component_types,
    check_order_refundable,
    record,
)
from infra.amazon.sandbox.state import (
    DEMO_SELLER,
    SandboxAdjustment,
    SandboxItem,
    SandboxOrder,
    SandboxState,
    iso,
)


class ComponentIn(BaseModel):
    type: str = Field(min_length=1)
    amount: Decimal


class RefundItemIn(BaseModel):
    order_item_id: str = Field(min_length=1)
    components: list[ComponentIn] = Field(min_length=1)


class SellerCentralRefundIn(BaseModel):
    reason: str = "CustomerReturn"
    items: list[RefundItemIn] = Field(min_length=1)


class TaxRefundableIn(BaseModel):
    refundable: bool


def adjustment_json(item: SandboxItem, adjustment: SandboxAdjustment) -> dict[str, Any]:
    """One recorded adjustment, as the control views show it."""
    return {
        "order_item_id": item.order_item_id,
        "source": adjustment.source,
        "feed_id": adjustment.feed_id,
        "message_id": adjustment.message_id,
        "merchant_adjustment_item_id": adjustment.merchant_adjustment_item_id,
        "order_adjustment_item_id": adjustment.order_adjustment_item_id,
        "reason": adjustment.reason,
        "currency": adjustment.currency,
        "components": [{"type": t, "amount": str(v)} for t, v in adjustment.components],
        "total": str(adjustment.total),
        "quantity_cancelled": adjustment.quantity_cancelled,
        "posted_time": iso(adjustment.posted_at),
    }


def adjustments_json(order: SandboxOrder) -> list[dict[str, Any]]:
    """Every adjustment of the order, in the order Amazon recorded them."""
    found = [(item, a) for item in order.items for a in item.adjustments]
    found.sort(key=lambda pair: (pair[1].posted_at, int(pair[1].order_adjustment_item_id or 0)))
    return [adjustment_json(item, a) for item, a in found]


def _refund(state: SandboxState, order: SandboxOrder, body: SellerCentralRefundIn) -> Any:
    if body.reason not in ADJUSTMENT_REASONS:
        raise SandboxError(f"reason {body.reason!r} is not one of {list(ADJUSTMENT_REASONS)}")
    check_order_refundable(order)
    checks = RefundCheck(order)
    planned: list[AdjustedItem] = []
    items = {item.order_item_id: item for item in order.items}
    for index, line in enumerate(body.items):
        where = f"items[{index}]"
        item = items.get(line.order_item_id)
        if item is None:
            raise SandboxError(
                f"{where}.order_item_id {line.order_item_id} is not an item of order "
                f"{order.order_id}"
            )
        components = tuple((c.type, c.amount) for c in line.components)
        check_component_types(components, f"{where}.components")
        checks.check(item, components, where)
        planned.append(AdjustedItem(item=item, reason=body.reason, components=components))
    return record(state, order, planned, source="seller_central")


def router(state: SandboxState) -> APIRouter:
    routes = APIRouter()

    @routes.post("/orders/{order_id}/seller-central-refunds", status_code=201)
    def seller_central_refund(order_id: str, body: SellerCentralRefundIn) -> dict[str, Any]:
        with state.lock:
            order = state.order(order_id)
            recorded, event = _refund(state, order, body)
            return {
                "order_id": order_id,
                "adjustments": [adjustment_json(item, a) for item, a in recorded],
                "refund_event": event_json(event),
            }

    @routes.get("/orders/{order_id}/adjustments")
    def adjustments(order_id: str) -> dict[str, Any]:
        with state.lock:
            listed = adjustments_json(state.order(order_id))
            return {"order_id": order_id, "count": len(listed), "adjustments": listed}

    @routes.post("/orders/{order_id}/tax-refundable")
    def tax_refundable(order_id: str, body: TaxRefundableIn) -> dict[str, Any]:
        with state.lock:
            state.order(order_id).tax_refundable = body.refundable
        return {"order_id": order_id, "tax_refundable": body.refundable}

    @routes.get("/finances/events")
    def events(
        seller_id: str = DEMO_SELLER.seller_id, order_id: str | None = None
    ) -> dict[str, Any]:
        with state.lock:
            groups = state.event_groups(seller_id)
            group_of = {e.sequence: g.group_id for g in groups for e in g.events}
            listed = [
                {
                    "sequence": e.sequence,
                    "kind": e.kind,
                    "order_id": e.order_id,
                    "group_id": group_of.get(e.sequence),
                    "posted_time": iso(e.posted_at),
                    "currency": e.currency,
                    "net": str(e.net),
                    "event": event_json(e),
                }
                for e in state.financial_events(seller_id)
                if order_id is None or e.order_id == order_id
            ]
            return {"events": listed}

    @routes.get("/finances/groups")
    def groups(seller_id: str = DEMO_SELLER.seller_id) -> dict[str, Any]:
        with state.lock:
            return {
                "groups": [
                    {**group_json(g), "event_count": len(g.events)}
                    for g in state.event_groups(seller_id)
                ]
            }

    return routes
