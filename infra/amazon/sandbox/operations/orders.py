"""Orders v2026-01-01: ``searchOrders`` and ``getOrder``.

The window and pagination follow ``rules.window`` and ``rules.pagination``; ``includedData``
decides which sections come back (``rules.included``), and a later page keeps the first page's
choice unless it sends its own.
"""

from __future__ import annotations

from typing import Any

from infra.amazon.sandbox.errors import invalid
from infra.amazon.sandbox.operations.call import Call, own_order
from infra.amazon.sandbox.render import order_2026
from infra.amazon.sandbox.rules.pagination import (
    OrderQuery,
    before_field,
    make_token,
    page,
    read_token,
)
from infra.amazon.sandbox.rules.query import MAX_LIST, MAX_PAGE, enum_list, included, listed
from infra.amazon.sandbox.rules.query import page_size as read_page_size
from infra.amazon.sandbox.rules.window import WINDOW_2026, parse_window
from infra.amazon.sandbox.state import FULFILLED_BY, FULFILLMENT_STATUSES


def search_orders(call: Call) -> tuple[int, dict[str, Any]]:
    params = call.query
    sections = included(params)
    size = read_page_size(params, "maxResultsPerPage")
    token = params.get("paginationToken")
    if token:
        payload = read_token(call.state, call.operation, call.seller_id, token)
        query = OrderQuery.from_json(payload["q"])
        position: list[str] | None = payload["pos"]
        if sections is None:
            sections = list(payload.get("included", []))
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
            statuses=tuple(enum_list(params, "fulfillmentStatuses", FULFILLMENT_STATUSES)),
            marketplace_ids=tuple(marketplaces),
            fulfilled_by=tuple(enum_list(params, "fulfilledBy", FULFILLED_BY)),
        )
        position = None
    size = size or MAX_PAGE
    chosen = frozenset(sections or ())
    with call.state.lock:
        found, next_position = page(call.state, call.seller_id, query, position, size)
        body: dict[str, Any] = {"orders": [order_2026(o, chosen) for o in found]}
    if next_position is not None:
        extra = {"included": sorted(chosen), "size": size}
        body["pagination"] = {
            "nextToken": make_token(
                call.state, call.operation, call.seller_id, query, next_position, extra
            )
        }
    body.update(before_field(query, "createdBefore", "lastUpdatedBefore"))
    return 200, body


def get_order(call: Call) -> tuple[int, dict[str, Any]]:
    chosen = frozenset(included(call.query) or ())
    with call.state.lock:
        return 200, {"order": order_2026(own_order(call), chosen)}
