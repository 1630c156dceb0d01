"""The SP-API operations the sandbox serves, one handler per model operation key.

``SERVED_OPERATIONS`` is the registry: ``app`` mounts each handler at the method and path of
Amazon's model for that key (so a route cannot drift from Amazon's), and the conformance tests
require a case for every key in it. To serve a new operation, write a handler here and add it
to the registry. The handlers for confirmShipment and the Feeds API are thin: the rules live in
``shipments`` and ``feeds``, which refuse with ``SandboxError`` (turned into ``ApiError`` here).

A handler gets the caller's seller and the request, and returns (status, JSON body) or raises
``ApiError`` (400 / 404 with Amazon's ``errors`` body); a body of None is an answer without one
(confirmShipment's 204, cancelFeed's 200). Authentication, faults, rate limits and the call
log are the app's business, before and after the handler.

Query rules shared by searchOrders and v0 getOrders (from the models' parameter notes):
exactly one of created-after / last-updated-after; the Created* and LastUpdated* pairs do not
mix; "before" defaults to now - 2 minutes and must be >= "after" and <= now - 2 minutes; the
"before" applied is returned so the caller can use Amazon's clock as its watermark. A
pagination token carries the whole query and the last position, so later pages need nothing
else and see the same window.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams

from infra.amazon.sandbox import feeds
from infra.amazon.sandbox.render import (
    INCLUDED_DATA,
    V0_CHANNEL,
    V0_STATUS,
    order_2026,
    order_items_v0,
    order_v0,
)
from infra.amazon.sandbox.shipments import (
    ShipmentRefused,
    confirm_package,
    parse_confirm_shipment,
)
from infra.amazon.sandbox.state import (
    FULFILLED_BY,
    FULFILLMENT_STATUSES,
    VISIBILITY_LAG,
    SandboxError,
    SandboxOrder,
    SandboxState,
    iso,
    parse_iso,
    whole_seconds,
)

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
MAX_PAGE = 100
MAX_LIST = 50


class ApiError(Exception):
    """An SP-API error answer: ``{"errors": [{"code", "message", "details"}]}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidInput", message)


def not_found(order_id: str) -> ApiError:
    return ApiError(404, "NotFound", f"Order {order_id} was not found")


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": ""}]}


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated SP-API request, as a handler sees it."""

    state: SandboxState
    operation: str
    seller_id: str
    query: QueryParams
    path_params: dict[str, str]
    body: bytes = b""
    base_url: str = ""  # where the sandbox is reached, for the URLs it hands out


Handler = Callable[[Call], tuple[int, dict[str, Any] | None]]


def _json_body(call: Call) -> Any:
    if not call.body.strip():
        return None
    try:
        return json.loads(call.body)
    except ValueError as exc:
        raise invalid("The request body is not valid JSON") from exc


@contextmanager
def _refusals() -> Iterator[None]:
    """A ``SandboxError`` from the sandbox's rules as Amazon's answer (404 or 400)."""
    try:
        yield
    except SandboxError as exc:
        if exc.status == 404:
            raise ApiError(404, "NotFound", exc.message) from exc
        raise ApiError(exc.status, "InvalidInput", exc.message) from exc


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """A search's filters and window; serialized into pagination tokens."""

    by: str  # "created" or "updated"
    after: str
    before: str
    statuses: tuple[str, ...] = ()  # v2026-01-01 values
    marketplace_ids: tuple[str, ...] = ()
    fulfilled_by: tuple[str, ...] = ()
    order_ids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderQuery:
        return cls(
            by=str(data["by"]),
            after=str(data["after"]),
            before=str(data["before"]),
            statuses=tuple(data.get("statuses", ())),
            marketplace_ids=tuple(data.get("marketplace_ids", ())),
            fulfilled_by=tuple(data.get("fulfilled_by", ())),
            order_ids=tuple(data.get("order_ids", ())),
        )

    def matcher(self) -> Callable[[SandboxOrder], bool]:
        """A predicate for this query (the window parsed once, not per order)."""
        after, before = parse_iso(self.after), parse_iso(self.before)

        def match(order: SandboxOrder) -> bool:
            moment = order.created_at if self.by == "created" else order.updated_at
            return (
                after <= moment <= before
                and (not self.statuses or order.status in self.statuses)
                and (not self.marketplace_ids or order.marketplace_id in self.marketplace_ids)
                and (not self.fulfilled_by or order.fulfilled_by in self.fulfilled_by)
                and (not self.order_ids or order.order_id in self.order_ids)
            )

        return match

    def sort_key(self, order: SandboxOrder) -> tuple[datetime, str]:
        return (order.created_at if self.by == "created" else order.updated_at, order.order_id)


@dataclass(frozen=True, slots=True)
class WindowNames:
    created_after: str
    created_before: str
    updated_after: str
    updated_before: str


WINDOW_2026 = WindowNames("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore")
WINDOW_V0 = WindowNames("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore")


def listed(query: QueryParams, name: str) -> list[str]:
    """An array parameter, sent comma-separated, repeated, or both."""
    values: list[str] = []
    for raw in query.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def _enum_list(query: QueryParams, name: str, allowed: Iterable[str]) -> list[str]:
    values = listed(query, name)
    allowed_set = set(allowed)
    bad = [v for v in values if v not in allowed_set]
    if bad:
        raise invalid(f"Invalid value(s) for {name}: {', '.join(bad)}")
    return values


def _time(query: QueryParams, name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_iso(raw)
    except ValueError as exc:
        raise invalid(f"{name} is not a valid ISO 8601 date-time: {raw!r}") from exc


def parse_window(query: QueryParams, names: WindowNames, now: datetime) -> tuple[str, str, str]:
    """Check Amazon's window rules; returns (by, after, before) with "before" filled in."""
    created_after = _time(query, names.created_after)
    created_before = _time(query, names.created_before)
    updated_after = _time(query, names.updated_after)
    updated_before = _time(query, names.updated_before)
    if (created_after or created_before) and (updated_after or updated_before):
        raise invalid(
            f"{names.created_after}/{names.created_before} cannot be combined with "
            f"{names.updated_after}/{names.updated_before}"
        )
    if created_after is None and updated_after is None:
        raise invalid(f"Exactly one of {names.created_after} or {names.updated_after} is required")
    if created_after is not None:
        by, after, before, after_name, before_name = (
            "created",
            created_after,
            created_before,
            names.created_after,
            names.created_before,
        )
    else:
        assert updated_after is not None
        by, after, before, after_name, before_name = (
            "updated",
            updated_after,
            updated_before,
            names.updated_after,
            names.updated_before,
        )
    latest = whole_seconds(now - VISIBILITY_LAG)
    if before is None:
        if after > latest:
            raise invalid(f"{after_name} must be at least two minutes before the current time")
        before = latest
    elif before > now - VISIBILITY_LAG:
        raise invalid(f"{before_name} must be at least two minutes before the current time")
    if before < after:
        raise invalid(f"{before_name} must be equal to or after {after_name}")
    return by, after.isoformat(), before.isoformat()


def _page_size(query: QueryParams, name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        size = int(raw)
    except ValueError as exc:
        raise invalid(f"{name} must be an integer between 1 and {MAX_PAGE}") from exc
    if not 1 <= size <= MAX_PAGE:
        raise invalid(f"{name} must be an integer between 1 and {MAX_PAGE}")
    return size


def _included(query: QueryParams) -> list[str] | None:
    if "includedData" not in query:
        return None
    return _enum_list(query, "includedData", INCLUDED_DATA)


def _page(
    call: Call, query: OrderQuery, position: list[str] | None, size: int
) -> tuple[list[SandboxOrder], list[str] | None]:
    """One page of the seller's matching orders, in a stable order, and the next position."""
    match = query.matcher()
    found = sorted(
        (o for o in call.state.orders_of(call.seller_id) if match(o)), key=query.sort_key
    )
    if position is not None:
        mark = (parse_iso(position[0]), position[1])
        found = [o for o in found if query.sort_key(o) > mark]
    page = found[:size]
    if len(found) <= size:
        return page, None
    last = query.sort_key(page[-1])
    return page, [last[0].isoformat(), last[1]]


def _read_token(call: Call, token: str) -> dict[str, Any]:
    try:
        payload = call.state.read_pagination_token(token)
    except SandboxError as exc:
        raise invalid(exc.message) from exc
    if payload.get("op") != call.operation or payload.get("seller") != call.seller_id:
        raise invalid("Invalid pagination token")
    return payload


def _token(call: Call, query: OrderQuery, position: list[str], extra: dict[str, Any]) -> str:
    payload = {"op": call.operation, "seller": call.seller_id, "q": query.to_json()}
    payload.update(pos=position, **extra)
    return call.state.make_pagination_token(payload)


def _before_field(query: OrderQuery, created: str, updated: str) -> dict[str, str]:
    return {created if query.by == "created" else updated: iso(parse_iso(query.before))}


# -- Orders v2026-01-01 ------------------------------------------------------------------------


def search_orders(call: Call) -> tuple[int, dict[str, Any]]:
    params = call.query
    included = _included(params)
    size = _page_size(params, "maxResultsPerPage")
    token = params.get("paginationToken")
    if token:
        payload = _read_token(call, token)
        query = OrderQuery.from_json(payload["q"])
        position: list[str] | None = payload["pos"]
        if included is None:
            included = list(payload.get("included", []))
        size = size or int(payload.get("size", MAX_PAGE))
    else:
        by, after, before = parse_window(params, WINDOW_2026, call.state.now())
        marketplaces = listed(params, "marketplaceIds")
        if len(marketplaces) > MAX_LIST:
            raise invalid(f"marketplaceIds accepts at most {MAX_LIST} values")
        query = OrderQuery(
            by=by,
            after=after,
            before=before,
            statuses=tuple(_enum_list(params, "fulfillmentStatuses", FULFILLMENT_STATUSES)),
            marketplace_ids=tuple(marketplaces),
            fulfilled_by=tuple(_enum_list(params, "fulfilledBy", FULFILLED_BY)),
        )
        position = None
    size = size or MAX_PAGE
    chosen = frozenset(included or ())
    with call.state.lock:
        page, next_position = _page(call, query, position, size)
        body: dict[str, Any] = {"orders": [order_2026(o, chosen) for o in page]}
    if next_position is not None:
        extra = {"included": sorted(chosen), "size": size}
        body["pagination"] = {"nextToken": _token(call, query, next_position, extra)}
    body.update(_before_field(query, "createdBefore", "lastUpdatedBefore"))
    return 200, body


def _own_order(call: Call) -> SandboxOrder:
    order_id = call.path_params["orderId"]
    if not ORDER_ID.match(order_id):
        raise invalid(f"Invalid orderId {order_id!r}: expected the 3-7-7 format")
    order = call.state.orders.get(order_id)
    if order is None or order.seller_id != call.seller_id:
        raise not_found(order_id)  # another seller's order does not exist for this caller
    return order


def get_order(call: Call) -> tuple[int, dict[str, Any]]:
    included = frozenset(_included(call.query) or ())
    with call.state.lock:
        return 200, {"order": order_2026(_own_order(call), included)}


# -- Orders v0 ---------------------------------------------------------------------------------

_V0_STATUS_BACK = {v: k for k, v in V0_STATUS.items()}
_V0_STATUS_VALUES = (*V0_STATUS.values(), "InvoiceUnconfirmed")
_V0_CHANNEL_BACK = {v: k for k, v in V0_CHANNEL.items()}


def get_orders_v0(call: Call) -> tuple[int, dict[str, Any]]:
    params = call.query
    size = _page_size(params, "MaxResultsPerPage")
    token = params.get("NextToken")
    if token:
        payload = _read_token(call, token)
        query = OrderQuery.from_json(payload["q"])
        position: list[str] | None = payload["pos"]
        size = size or int(payload.get("size", MAX_PAGE))
    else:
        marketplaces = listed(params, "MarketplaceIds")
        if not marketplaces:
            raise invalid("MarketplaceIds is required")
        order_ids = listed(params, "AmazonOrderIds")
        if len(marketplaces) > MAX_LIST or len(order_ids) > MAX_LIST:
            raise invalid(f"MarketplaceIds and AmazonOrderIds accept at most {MAX_LIST} values")
        by, after, before = parse_window(params, WINDOW_V0, call.state.now())
        statuses = _enum_list(params, "OrderStatuses", _V0_STATUS_VALUES)
        channels = _enum_list(params, "FulfillmentChannels", _V0_CHANNEL_BACK)
        query = OrderQuery(
            by=by,
            after=after,
            before=before,
            # InvoiceUnconfirmed has no v2026 status and matches nothing here.
            statuses=tuple(_V0_STATUS_BACK.get(s, s) for s in statuses),
            marketplace_ids=tuple(marketplaces),
            fulfilled_by=tuple(_V0_CHANNEL_BACK[c] for c in channels),
            order_ids=tuple(order_ids),
        )
        position = None
    size = size or MAX_PAGE
    with call.state.lock:
        page, next_position = _page(call, query, position, size)
        payload_out: dict[str, Any] = {"Orders": [order_v0(o) for o in page]}
    if next_position is not None:
        payload_out["NextToken"] = _token(call, query, next_position, {"size": size})
    payload_out.update(_before_field(query, "CreatedBefore", "LastUpdatedBefore"))
    return 200, {"payload": payload_out}


def get_order_v0(call: Call) -> tuple[int, dict[str, Any]]:
    with call.state.lock:
        return 200, {"payload": order_v0(_own_order(call))}


def get_order_items_v0(call: Call) -> tuple[int, dict[str, Any]]:
    with call.state.lock:
        order = _own_order(call)
        return 200, {
            "payload": {"AmazonOrderId": order.order_id, "OrderItems": order_items_v0(order)}
        }


def confirm_shipment(call: Call) -> tuple[int, dict[str, Any] | None]:
    """One package confirmed or edited (``shipments``); 204 without a body."""
    body = _json_body(call)
    with _refusals():
        marketplace_id, confirmation = parse_confirm_shipment(body)
    with call.state.lock, _refusals():
        order = _own_order(call)
        if marketplace_id != order.marketplace_id:
            raise ShipmentRefused(
                f"marketplaceId {marketplace_id} is not the marketplace of order "
                f"{order.order_id} ({order.marketplace_id})"
            )
        confirm_package(call.state, order, confirmation)
    return 204, None


# -- Feeds 2021-06-30 (the rules are in ``feeds``) ---------------------------------------------


def create_feed_document(call: Call) -> tuple[int, dict[str, Any] | None]:
    body = _json_body(call)
    with call.state.lock, _refusals():
        return 201, feeds.create_feed_document(call.state, call.seller_id, body, call.base_url)


def create_feed(call: Call) -> tuple[int, dict[str, Any] | None]:
    body = _json_body(call)
    with call.state.lock, _refusals():
        return 202, feeds.create_feed(call.state, call.seller_id, body)


def get_feed(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, _refusals():
        return 200, feeds.get_feed(call.state, call.seller_id, call.path_params["feedId"])


def get_feeds(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, _refusals():
        return 200, feeds.get_feeds(call.state, call.seller_id, call.operation, call.query)


def cancel_feed(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, _refusals():
        feeds.cancel_feed(call.state, call.seller_id, call.path_params["feedId"])
    return 200, None


def get_feed_document(call: Call) -> tuple[int, dict[str, Any] | None]:
    document_id = call.path_params["feedDocumentId"]
    with call.state.lock, _refusals():
        return 200, feeds.get_feed_document(
            call.state, call.seller_id, document_id, call.base_url, call.query
        )


SERVED_OPERATIONS: dict[str, Handler] = {
    "orders2026.searchOrders": search_orders,
    "orders2026.getOrder": get_order,
    "ordersV0.getOrders": get_orders_v0,
    "ordersV0.getOrder": get_order_v0,
    "ordersV0.getOrderItems": get_order_items_v0,
    "ordersV0.confirmShipment": confirm_shipment,
    "feeds.createFeedDocument": create_feed_document,
    "feeds.createFeed": create_feed,
    "feeds.getFeed": get_feed,
    "feeds.getFeeds": get_feeds,
    "feeds.cancelFeed": cancel_feed,
    "feeds.getFeedDocument": get_feed_document,
}
