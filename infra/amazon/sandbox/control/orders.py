"""Control API, orders: create one or many, move their status, have a buyer ask to cancel,
patch their raw JSON, and look at what is stored (packages, cancellations, adjustments, units
charged by a shipment event)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from infra.amazon.sandbox.control.finances import adjustment_json
from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, create_bulk, create_order
from infra.amazon.sandbox.render import order_2026_full, order_items_v0, order_v0
from infra.amazon.sandbox.state import DEMO_SELLER, SandboxError, SandboxOrder, SandboxState, iso

Status = Literal[
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
]
FulfilledBy = Literal["MERCHANT", "AMAZON"]


class ItemIn(BaseModel):
    sku: str = Field(min_length=1)
    title: str | None = None
    quantity: int = Field(default=1, ge=1)
    unit_price: Decimal | None = Field(default=None, ge=0)
    asin: str | None = None


class OrderIn(BaseModel):
    seller_id: str = DEMO_SELLER.seller_id
    marketplace_id: str | None = None
    fulfilled_by: FulfilledBy = "MERCHANT"
    status: Status = "UNSHIPPED"
    items: list[ItemIn] | None = Field(default=None, min_length=1)
    currency: str | None = None
    business: bool = False
    replacement_of: str | None = None
    missing_buyer: bool = False
    prime: bool = False
    created_time: datetime | None = None
    # An order made this long ago (Amazon hides the last two minutes from searches: 180 makes
    # it visible to the next sync at once). Not with created_time.
    created_seconds_ago: float | None = Field(default=None, ge=0, le=10 * 365 * 86_400)
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    service_level: str | None = None


class BulkIn(BaseModel):
    count: int = Field(ge=1, le=100_000)
    seller_id: str = DEMO_SELLER.seller_id
    marketplace_id: str | None = None
    fulfilled_by: FulfilledBy | None = None
    status: Status | None = None
    items_per_order: int | None = Field(default=None, ge=1, le=50)
    spread_seconds: float = Field(default=0.0, ge=0)
    seed: int | None = None


class StatusIn(BaseModel):
    status: Status


class CancellationIn(BaseModel):
    reason: str = "Changed mind about purchase"
    item_ids: list[str] | None = None


def _utc(moment: datetime | None) -> datetime | None:
    """Control times without a zone are UTC, like Amazon's."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stored(order: SandboxOrder) -> dict[str, Any]:
    latest_ship = order.ship_by[1] if order.ship_by else None
    return {
        "order_id": order.order_id,
        "seller_id": order.seller_id,
        "status": order.status,
        "created_time": iso(order.created_at),
        "last_updated_time": iso(order.updated_at),
        "packages": [
            {
                "package_reference_id": p.package_reference_id,
                "carrier": p.carrier,
                "carrier_code": p.carrier_code,
                "tracking_number": p.tracking_number,
                "shipping_service": p.shipping_service,
                "ship_time": iso(p.ship_time),
                "late": latest_ship is not None and p.ship_time > latest_ship,
                "created_time": iso(p.created_time),
                "updated_time": iso(p.updated_time) if p.updated_time else None,
                "status": p.status,
                "items": [{"order_item_id": i, "quantity": q} for i, q in p.items],
            }
            for p in order.packages
        ],
        "items": [
            {
                "order_item_id": i.order_item_id,
                "sku": i.sku,
                "quantity": i.quantity,
                "quantity_shipped": i.quantity_shipped,
                "quantity_cancelled": i.quantity_cancelled,
                "seller_cancel_reason": i.seller_cancel_reason,
                "adjustments": [adjustment_json(i, a) for a in i.adjustments],
                "quantity_charged": i.quantity_charged,
            }
            for i in order.items
        ],
        "tax_refundable": order.tax_refundable,
        "overrides": order.overrides,
        "order": order_2026_full(order),
        "v0": {"order": order_v0(order), "order_items": order_items_v0(order)},
    }


def router(state: SandboxState) -> APIRouter:
    routes = APIRouter()

    @routes.post("/orders", status_code=201)
    def add_order(body: OrderIn) -> dict[str, Any]:
        created_time = _utc(body.created_time)
        if body.created_seconds_ago is not None:
            if created_time is not None:
                raise SandboxError("give created_time or created_seconds_ago, not both")
            created_time = state.now() - timedelta(seconds=body.created_seconds_ago)
        spec = OrderSpec(
            seller_id=body.seller_id,
            marketplace_id=body.marketplace_id,
            fulfilled_by=body.fulfilled_by,
            status=body.status,
            items=[
                ItemSpec(
                    sku=i.sku,
                    quantity=i.quantity,
                    unit_price=i.unit_price,
                    title=i.title,
                    asin=i.asin,
                )
                for i in body.items
            ]
            if body.items
            else None,
            currency=body.currency,
            business=body.business,
            replacement_of=body.replacement_of,
            missing_buyer=body.missing_buyer,
            prime=body.prime,
            created_time=created_time,
            ship_by=_utc(body.ship_by),
            deliver_by=_utc(body.deliver_by),
            service_level=body.service_level,
        )
        with state.lock:
            order = create_order(state, spec)
            return {"order_id": order.order_id, "order": order_2026_full(order)}

    @routes.post("/orders/bulk", status_code=201)
    def add_orders(body: BulkIn) -> dict[str, Any]:
        ids = create_bulk(
            state,
            body.count,
            seller_id=body.seller_id,
            marketplace_id=body.marketplace_id,
            fulfilled_by=body.fulfilled_by,
            status=body.status,
            items_per_order=body.items_per_order,
            spread_seconds=body.spread_seconds,
            seed=body.seed,
        )
        return {"order_ids": ids}

    @routes.get("/orders/{order_id}")
    def stored_order(order_id: str) -> dict[str, Any]:
        with state.lock:
            return _stored(state.order(order_id))

    @routes.post("/orders/{order_id}/status")
    def change_status(order_id: str, body: StatusIn) -> dict[str, Any]:
        with state.lock:
            return _stored(state.set_status(order_id, body.status))

    @routes.post("/orders/{order_id}/cancellation-request")
    def request_cancellation(order_id: str, body: CancellationIn) -> dict[str, Any]:
        with state.lock:
            return _stored(state.request_cancellation(order_id, body.reason, body.item_ids))

    @routes.post("/orders/{order_id}/raw")
    def patch_raw(order_id: str, body: dict[str, Any], replace: bool = False) -> dict[str, Any]:
        with state.lock:
            return _stored(state.patch_raw(order_id, body, replace))

    return routes
