"""The sandbox's control API under ``/_sandbox/``: what tests and demos use to stage Amazon.

No authentication; JSON in and out; refusals are ``{"error": "..."}`` with 400/404/409.

Sellers
- ``POST /_sandbox/sellers`` ``{seller_id, refresh_token, client_id, client_secret,
  marketplace_ids}`` adds a seller reachable with those LWA credentials. The demo seller
  (``state.DEMO_SELLER``) always exists.

Orders
- ``POST /_sandbox/orders`` ``{seller_id?, marketplace_id?, fulfilled_by: MERCHANT|AMAZON,
  status: PENDING|UNSHIPPED|PARTIALLY_SHIPPED|SHIPPED|CANCELLED|..., items?: [{sku, title?,
  quantity, unit_price (decimal string), asin?}], currency?, business, replacement_of,
  missing_buyer, prime, created_time?, ship_by?, deliver_by?, service_level?}`` creates one
  order and returns ``{order_id, order}`` (the v2026-01-01 JSON with every section).
  ``created_time`` defaults to the sandbox's now, and a new order's lastUpdatedTime is its
  createdTime, so an order created 2+ minutes in the past is visible to searches at once.
- ``POST /_sandbox/orders/bulk`` ``{count, seller_id?, marketplace_id?, fulfilled_by?, status?,
  items_per_order?, spread_seconds?, seed?}`` creates many varied orders (deterministic with a
  seed), created over the last ``spread_seconds``; returns ``{order_ids}``.
- ``POST /_sandbox/orders/{orderId}/status`` ``{status}`` moves an order (prices appear when it
  leaves PENDING; shipped MFN orders get a package).
- ``POST /_sandbox/orders/{orderId}/cancellation-request`` ``{reason, item_ids?}``: the buyer asks
  to cancel (all items by default).
- ``POST /_sandbox/orders/{orderId}/raw[?replace=true]`` with any JSON object: merged over the
  order's v2026-01-01 JSON (``null`` deletes a field; ``replace`` drops earlier patches first).
  For robustness tests: unknown enum values, dates that are not dates, missing fields. Orders
  v0 answers ignore these patches.
  Each of these three bumps the order's lastUpdatedTime to the sandbox's now.
- ``GET /_sandbox/orders/{orderId}``: the stored order (seller, status, packages with the ship
  date as confirmed and whether it was late, items with shipped and seller-cancelled units and
  the adjustments recorded by payment adjustment feeds, patches, and the v2026-01-01 and v0
  views).

Clock
- ``GET /_sandbox/clock``; ``POST /_sandbox/clock/advance`` ``{seconds}`` moves the sandbox's
  "Amazon time" forward (timestamps, the two-minute rule, token expiry).

Faults
- ``POST /_sandbox/faults`` ``{operation: "orders2026.searchOrders" | ... | "*", kind: 429 | 500
  | 503 | latency | drop | lose_response, count?: 1, latency_ms?, seller_id?}`` queues a fault
  for the next ``count`` matching calls; ``DELETE /_sandbox/faults`` clears them.

Feeds (Feeds API 2021-06-30; rules in ``feeds``)
- ``PUT /_sandbox/uploads/{feedDocumentId}?expires=`` is the "presigned" upload URL that
  ``createFeedDocument`` hands out: no SP-API token, no rate bucket; the Content-Type must be the
  declared ``contentType`` (400), the URL lives five minutes of sandbox time (403).
- ``GET /_sandbox/downloads/{feedDocumentId}?expires=[&contentEncoding=gzip]`` is the download
  URL from ``getFeedDocument``.
- ``GET /_sandbox/feeds?seller_id=``: every feed (newest first) with status and counts;
  ``GET /_sandbox/feeds/{feedId}``: the feed, its input document, what each message did, the
  results and the report. ``POST /_sandbox/feeds/{feedId}/process`` finishes a queued or
  running feed at once.
- ``POST /_sandbox/feed-settings`` ``{gzip_results}``: store processing reports gzipped (then
  ``getFeedDocument`` says ``compressionAlgorithm: GZIP``).

Inspection
- ``GET /_sandbox/state``: counts (orders by seller and status, packages, tokens, faults).
- ``GET /_sandbox/calls?operation=&limit=``: the SP-API calls received (time, request id,
  operation, seller, status, fault); ``DELETE /_sandbox/calls`` empties the log.
- ``POST /_sandbox/reset``: back to a fresh state with only the demo seller.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from infra.amazon.models import operations
from infra.amazon.sandbox import feeds
from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, create_bulk, create_order
from infra.amazon.sandbox.render import order_2026_full, order_items_v0, order_v0
from infra.amazon.sandbox.state import (
    DEMO_SELLER,
    FAULT_KINDS,
    Fault,
    SandboxError,
    SandboxOrder,
    SandboxState,
    SellerAccount,
    iso,
)

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


class SellerIn(BaseModel):
    seller_id: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    marketplace_ids: list[str] = Field(min_length=1)


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


class ClockIn(BaseModel):
    seconds: float = Field(ge=0)


class FeedSettingsIn(BaseModel):
    gzip_results: bool


class FaultIn(BaseModel):
    operation: str
    kind: Literal["429", "500", "503", "latency", "drop", "lose_response"]
    count: int = Field(default=1, ge=1)
    latency_ms: int = Field(default=0, ge=0, le=120_000)
    seller_id: str | None = None


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
                "adjustments": [
                    {
                        "feed_id": a.feed_id,
                        "message_id": a.message_id,
                        "reason": a.reason,
                        "currency": a.currency,
                        "components": [{"type": t, "amount": str(v)} for t, v in a.components],
                        "total": str(a.total),
                        "quantity_cancelled": a.quantity_cancelled,
                        "merchant_adjustment_item_id": a.merchant_adjustment_item_id,
                        "posted_time": iso(a.posted_at),
                    }
                    for a in i.adjustments
                ],
            }
            for i in order.items
        ],
        "overrides": order.overrides,
        "order": order_2026_full(order),
        "v0": {"order": order_v0(order), "order_items": order_items_v0(order)},
    }


def control_router(state: SandboxState) -> APIRouter:
    """The ``/_sandbox`` routes over ``state`` (see the module docstring)."""
    router = APIRouter(prefix="/_sandbox")

    @router.post("/sellers", status_code=201)
    def add_seller(body: SellerIn) -> dict[str, Any]:
        state.add_seller(
            SellerAccount(
                seller_id=body.seller_id,
                refresh_token=body.refresh_token,
                client_id=body.client_id,
                client_secret=body.client_secret,
                marketplace_ids=tuple(body.marketplace_ids),
            )
        )
        return {"seller_id": body.seller_id}

    @router.post("/orders", status_code=201)
    def add_order(body: OrderIn) -> dict[str, Any]:
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
            created_time=_utc(body.created_time),
            ship_by=_utc(body.ship_by),
            deliver_by=_utc(body.deliver_by),
            service_level=body.service_level,
        )
        with state.lock:
            order = create_order(state, spec)
            return {"order_id": order.order_id, "order": order_2026_full(order)}

    @router.post("/orders/bulk", status_code=201)
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

    @router.get("/orders/{order_id}")
    def stored_order(order_id: str) -> dict[str, Any]:
        with state.lock:
            return _stored(state.order(order_id))

    @router.post("/orders/{order_id}/status")
    def change_status(order_id: str, body: StatusIn) -> dict[str, Any]:
        with state.lock:
            return _stored(state.set_status(order_id, body.status))

    @router.post("/orders/{order_id}/cancellation-request")
    def request_cancellation(order_id: str, body: CancellationIn) -> dict[str, Any]:
        with state.lock:
            return _stored(state.request_cancellation(order_id, body.reason, body.item_ids))

    @router.post("/orders/{order_id}/raw")
    def patch_raw(order_id: str, body: dict[str, Any], replace: bool = False) -> dict[str, Any]:
        with state.lock:
            return _stored(state.patch_raw(order_id, body, replace))

    @router.get("/clock")
    def clock() -> dict[str, Any]:
        return {"now": iso(state.now()), "offset_seconds": state.clock_offset.total_seconds()}

    @router.post("/clock/advance")
    def advance(body: ClockIn) -> dict[str, Any]:
        state.advance_clock(body.seconds)
        return clock()

    @router.post("/faults", status_code=201)
    def add_fault(body: FaultIn) -> dict[str, Any]:
        if body.operation != "*" and body.operation not in operations():
            raise SandboxError(f"unknown operation {body.operation!r} (use a model operation key)")
        assert body.kind in FAULT_KINDS
        state.add_fault(
            Fault(
                operation=body.operation,
                kind=body.kind,
                count=body.count,
                latency_ms=body.latency_ms,
                seller_id=body.seller_id,
            )
        )
        return {"queued": body.model_dump()}

    @router.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        state.clear_faults()
        return {"cleared": True}

    @router.put("/uploads/{document_id}")
    async def upload(document_id: str, request: Request) -> Response:
        feeds.upload(
            state,
            document_id,
            request.headers.get("content-type"),
            await request.body(),
            request.query_params.get("expires"),
        )
        return Response(status_code=200)

    @router.get("/downloads/{document_id}")
    def download(
        document_id: str, expires: str | None = None, contentEncoding: str | None = None
    ) -> Response:
        found = feeds.download(state, document_id, expires, contentEncoding)
        headers = {"content-encoding": found.content_encoding} if found.content_encoding else {}
        return Response(found.content, media_type=found.content_type, headers=headers)

    @router.get("/feeds")
    def list_feeds(seller_id: str | None = None) -> dict[str, Any]:
        with state.lock:
            listed = []
            for feed in sorted(
                state.feeds.values(), key=lambda f: (f.created_at, int(f.feed_id)), reverse=True
            ):
                if seller_id and feed.seller_id != seller_id:
                    continue
                feeds.advance(state, feed)
                listed.append(
                    {
                        **feeds.feed_json(feed),
                        "seller_id": feed.seller_id,
                        "messages_processed": feed.messages_processed,
                        "messages_with_error": feed.messages_with_error,
                    }
                )
            return {"feeds": listed}

    @router.get("/feeds/{feed_id}")
    def feed_view(feed_id: str) -> dict[str, Any]:
        with state.lock:
            feed = state.feed(feed_id)
            feeds.advance(state, feed)
            return feeds.feed_view(state, feed)

    @router.post("/feeds/{feed_id}/process")
    def process_feed(feed_id: str) -> dict[str, Any]:
        with state.lock:
            feed = state.feed(feed_id)
            feeds.finish(state, feed)
            return feeds.feed_view(state, feed)

    @router.post("/feed-settings")
    def feed_settings(body: FeedSettingsIn) -> dict[str, Any]:
        with state.lock:
            state.gzip_feed_results = body.gzip_results
        return {"gzip_results": body.gzip_results}

    @router.get("/state")
    def summary() -> dict[str, Any]:
        return state.summary()

    @router.get("/calls")
    def calls(operation: str | None = None, limit: int = 100) -> dict[str, Any]:
        return {
            "calls": [
                {
                    "time": c.time,
                    "request_id": c.request_id,
                    "operation": c.operation,
                    "seller_id": c.seller_id,
                    "status": c.status,
                    "fault": c.fault,
                }
                for c in state.call_log(operation, limit)
            ]
        }

    @router.delete("/calls")
    def clear_calls() -> dict[str, Any]:
        state.clear_calls()
        return {"cleared": True}

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        state.reset()
        return {"reset": True}

    return router
