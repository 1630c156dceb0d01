"""Events as the platform receives them: each event's topic and its webhook JSON. The one place
that knows the platform's contract; stores append event values and this module shapes them.

Every payload says ``channel: "amazon"`` and ``buyer_notified_by: "amazon"``: Amazon notifies
the buyer of a shipment, so the platform must not (rule 4). No buyer data: we never store any.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain.fulfilments import Fulfilment, ReadBack
from domain.fulfilments.events import (
    FulfilmentConfirmed,
    FulfilmentFailed,
    FulfilmentRefused,
    ShipByApproaching,
    ShipByEvent,
    ShipByMissed,
)
from domain.orders import order_total
from domain.orders.events import OrderCancelled, OrderCreated, OrderEvent, OrderUpdated
from domain.shared.events import Event

CHANNEL = "amazon"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _platform(account_id: int | None) -> dict[str, Any]:
    """The fields every payload opens with."""
    return {"account_id": account_id, "channel": CHANNEL, "buyer_notified_by": CHANNEL}


def _order(event: OrderEvent) -> dict[str, Any]:
    order = event.order
    total = order_total(order)
    return {
        **_platform(event.account_id),
        "amazon_order_id": order.amazon_order_id,
        "marketplace_id": order.marketplace_id,
        "status": order.status.value,
        "fulfilled_by": order.fulfilled_by.value,
        "read_only": order.read_only,
        "currency": order.currency,
        "total": str(total.amount) if total is not None else None,
        "purchased_at": _iso(order.purchased_at),
        "amazon_updated_at": _iso(order.last_updated_at),
        "ship_by": {"earliest": _iso(order.ship_by_earliest), "latest": _iso(order.ship_by_latest)},
        "deliver_by": {
            "earliest": _iso(order.deliver_by_earliest),
            "latest": _iso(order.deliver_by_latest),
        },
        "is_business": order.is_business,
        "is_prime": order.is_prime,
        "is_replacement": order.is_replacement,
        "replaced_order_id": order.replaced_order_id,
        "buyer_cancel_requested": order.buyer_cancel_requested,
        "buyer_cancel_reason": order.buyer_cancel_reason,
        "version": event.version,
        "lines": [
            {
                "order_item_id": line.order_item_id,
                "sku": line.sku,
                "asin": line.asin,
                "quantity_ordered": line.quantity_ordered,
                "quantity_shipped": line.quantity_shipped,
                "unit_price": str(line.unit_price.amount) if line.unit_price else None,
                "cancel_requested": line.cancel_requested,
            }
            for line in order.lines
        ],
    }


def _fulfilment(fulfilment: Fulfilment) -> dict[str, Any]:
    return {
        **_platform(fulfilment.account_id),
        "fulfilment_id": fulfilment.id,
        "platform_fulfilment_id": fulfilment.platform_fulfilment_id,
        "amazon_order_id": fulfilment.amazon_order_id,
        "package_reference_id": fulfilment.package_reference_id,
        "state": fulfilment.state.value,
        "shipped_at": _iso(fulfilment.shipped_at),
        "carrier_code": fulfilment.carrier_code,
        "carrier_name": fulfilment.carrier_name,
        "shipping_method": fulfilment.shipping_method,
        "tracking_number": fulfilment.tracking_number,
        "lines": [
            {"order_item_id": line.order_item_id, "sku": line.sku, "quantity": line.quantity}
            for line in fulfilment.lines
        ],
    }


def _read_back(read_back: ReadBack) -> dict[str, Any]:
    order = read_back.order
    return {
        "order_status": order.status.value if order is not None else None,
        "package_status": read_back.package_status,
        "package_listed": read_back.package_listed,
        "read_error": read_back.error,
        # Not read yet (the seller's getOrder budget was spent): read shortly, the order then
        # comes as ``orders/updated``.
        "read_deferred": read_back.deferred,
        "items": [
            {
                "order_item_id": line.order_item_id,
                "quantity_ordered": line.quantity_ordered,
                "quantity_shipped": line.quantity_shipped,
            }
            for line in (order.lines if order is not None else ())
        ],
    }


def _confirmed(event: FulfilmentConfirmed) -> dict[str, Any]:
    return {**_fulfilment(event.fulfilment), "amazon": _read_back(event.read_back)}


def _failed(event: FulfilmentFailed) -> dict[str, Any]:
    error = {"source": "amazon", "code": event.code, "message": event.message}
    return {**_fulfilment(event.fulfilment), "error": error}


def _refused(event: FulfilmentRefused) -> dict[str, Any]:
    rejected = event.rejected
    return {
        "account": event.account_ref,
        **_platform(event.account_id),
        "fulfilment_id": None,
        "platform_fulfilment_id": event.platform_fulfilment_id,
        "amazon_order_id": event.amazon_order_id,
        "state": "rejected",
        "error": {
            "source": "validation",
            "code": "Conflict" if rejected.conflict else "InvalidRequest",
            "message": rejected.message,
            "errors": [{"field": e.field, "reason": e.reason} for e in rejected.errors],
        },
    }


def _ship_by(event: ShipByEvent) -> dict[str, Any]:
    order = event.order
    return {
        **_platform(order.account_id),
        "amazon_order_id": order.amazon_order_id,
        "status": order.status,
        "ship_by_latest": _iso(order.ship_by_latest),
        "minutes_left": event.minutes_left,
        "quantity_unshipped": order.quantity_remaining,
        "items": [
            {
                "order_item_id": item.order_item_id,
                "sku": item.sku,
                "quantity_unshipped": item.quantity_remaining,
            }
            for item in order.items
            if item.quantity_remaining > 0
        ],
    }


# Each event type: its topic and its payload.
_CONTRACT: dict[type[Event], tuple[str, Callable[[Any], dict[str, Any]]]] = {
    OrderCreated: ("orders/created", _order),
    OrderUpdated: ("orders/updated", _order),
    OrderCancelled: ("orders/cancelled", _order),
    FulfilmentConfirmed: ("fulfilments/confirmed", _confirmed),
    FulfilmentFailed: ("fulfilments/failed", _failed),
    FulfilmentRefused: ("fulfilments/failed", _refused),
    ShipByApproaching: ("orders/ship_by_approaching", _ship_by),
    ShipByMissed: ("orders/ship_by_missed", _ship_by),
}


def topic(event: Event) -> str:
    return _CONTRACT[type(event)][0]


def payload(event: Event) -> dict[str, Any]:
    return _CONTRACT[type(event)][1](event)


def encode(event: Event) -> tuple[str, str]:
    """The event's topic and its payload as JSON text (what the outbox stores)."""
    name, build = _CONTRACT[type(event)]
    return name, json.dumps(build(event))
