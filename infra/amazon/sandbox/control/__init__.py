"""The sandbox's control API under ``/_sandbox/``: what tests and demos use to stage Amazon.

One router per area (``sellers``, ``orders``, ``clock``, ``faults``, ``feeds``, ``finances``,
``reports``, ``notifications``, ``inspection``).

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
  date as confirmed and whether it was late, items with shipped, charged and seller-cancelled
  units and the adjustments recorded (by feeds or in Seller Central), whether its tax is
  refundable, patches, and the v2026-01-01 and v0 views).

Clock
- ``GET /_sandbox/clock``; ``POST /_sandbox/clock/advance`` ``{seconds}`` moves the sandbox's
  "Amazon time" forward (timestamps, the two-minute rule, token expiry).

Faults
- ``POST /_sandbox/faults`` ``{operation: "orders2026.searchOrders" | ... | "*", kind: 429 | 500
  | 503 | latency | drop | lose_response | 504_after_apply, count?: 1, latency_ms?,
  seller_id?}`` queues a fault for the next ``count`` matching calls; ``DELETE
  /_sandbox/faults`` clears them. ``lose_response`` and ``504_after_apply`` apply the request
  and lose its answer (a cut connection, a 504): ``{"operation": "feeds.createFeed", "kind":
  "504_after_apply"}`` queues the feed and tells the client 504.

Feeds (Feeds API 2021-06-30; rules in ``feeds``, the API in ``operations.feeds``)
- ``PUT /_sandbox/uploads/{feedDocumentId}?expires=`` is the "presigned" upload URL that
  ``createFeedDocument`` hands out: no SP-API token, no rate bucket; the Content-Type must be the
  declared ``contentType`` (400), the URL lives five minutes of sandbox time (403).
- ``GET /_sandbox/downloads/{feedDocumentId}?expires=[&contentEncoding=gzip]`` is the download
  URL from ``getFeedDocument``.
- ``GET /_sandbox/feeds?seller_id=``: every feed (newest first) with status and counts;
  ``GET /_sandbox/feeds/{feedId}``: the feed, its input document, what each message did, the
  results and the report. ``POST /_sandbox/feeds/{feedId}/process`` finishes a queued or
  running feed at once.
- ``POST /_sandbox/feed-settings`` ``{gzip_results?, processing_seconds?}`` (only what is sent
  changes; ``GET`` reads them): store processing reports gzipped (then ``getFeedDocument``
  says ``compressionAlgorithm: GZIP``); ``processing_seconds`` T (null: unset) makes each new
  feed go IN_PROGRESS T/2 and finish T sandbox seconds after its creation, whatever getFeed
  polls do.

Finances (Finances v0; the events in ``state.finances``, the API in ``operations.finances``)
- ``POST /_sandbox/orders/{orderId}/seller-central-refunds`` ``{reason?, items: [{order_item_id,
  components: [{type, amount}]}]}``: a refund made in Seller Central (the adjustment feed's
  limits); records the adjustments (source ``seller_central``) and posts a refund event.
- ``GET /_sandbox/orders/{orderId}/adjustments``: every adjustment of the order with its source
  (feed id and message id, or ``seller_central``), MerchantAdjustmentItemID, components, units
  cancelled and posted time.
- ``POST /_sandbox/orders/{orderId}/tax-refundable`` ``{refundable}``: with false, refunding Tax
  or ShippingTax fails with "The requested refund amount for the tax or shipping tax is not
  eligible".
- ``GET /_sandbox/finances/events?seller_id=&order_id=`` and ``GET
  /_sandbox/finances/groups?seller_id=``: the events and groups, as the Finances API shows
  them.

Settlements and reports (the Reports API in ``operations.reports``; routes in
``control.reports``)
- ``POST /_sandbox/settlements/close`` ``{seller_id, currency?}``: close the seller's open
  financial event group now and make its settlement report (409 when it has no events).
- ``POST /_sandbox/report-settings`` ``{gzip?, promotion_id?}`` (``GET`` reads them): the next
  settlement documents gzipped or plain, with or without the ``promotion-id`` column.
- ``POST /_sandbox/settlements/malformed`` ``{seller_id?, kinds}``: rows to be set aside, in the
  seller's next settlement report.
- ``GET /_sandbox/reports?seller_id=``, ``GET /_sandbox/reports/{reportId}/document``; ``GET
  /_sandbox/report-downloads/{reportDocumentId}?expires=`` is getReportDocument's URL.

Notifications (the Notifications API in ``operations.notifications``, delivery in ``delivery``)
- ``GET|POST /_sandbox/notification-settings`` ``{delay_seconds?, duplicate_rate?,
  reorder_rate?, drop_rate?, drop_next?, endpoint_url?, region?}``: how notifications are sent
  to the subscribed SQS queues (``{"drop_next": 3}`` loses the next three on purpose).
- ``GET /_sandbox/notifications?notification_type=&subject=``: what was sent (or dropped, or
  failed), with each message body; ``DELETE`` empties the listing.
- ``GET /_sandbox/notification-subscriptions``: the destinations and subscriptions held.

Inspection
- ``GET /_sandbox/state``: counts (orders by seller and status, packages, tokens, faults), the
  file the state is kept in (``state_file``, null in memory) and whether changes are still to be
  saved there (``unsaved_changes``; the keeper saves within a second).
- ``GET /_sandbox/calls?operation=&limit=``: the SP-API calls received (time, request id,
  operation, seller, status, fault); ``DELETE /_sandbox/calls`` empties the log.
- ``POST /_sandbox/reset``: back to a fresh state with only the demo seller (a kept state is
  overwritten with it within a second; ``amazon-channel sandbox reset`` calls this).
"""

from __future__ import annotations

from fastapi import APIRouter

from infra.amazon.sandbox.control import (
    clock,
    faults,
    feeds,
    finances,
    inspection,
    notifications,
    orders,
    reports,
    sellers,
)
from infra.amazon.sandbox.state import SandboxState


def control_router(state: SandboxState) -> APIRouter:
    """The ``/_sandbox`` routes over ``state`` (see the module docstring)."""
    router = APIRouter(prefix="/_sandbox")
    areas = (sellers, orders, clock, faults, feeds, finances, reports, notifications, inspection)
    for area in areas:
        router.include_router(area.router(state))
    return router
