"""Orders v0: ``getOrders``, ``getOrder`` and ``getOrderItems`` (PascalCase, ``payload``).

The same window and pagination rules as v2026-01-01 (``rules``), with v0's names; statuses and
fulfilment channels are v0's values, mapped back to the record's.
"""

from __future__ import annotations

from typing import Any

from infra.amazon.sandbox.errors import invalid
from infra.amazon.sandbox.operations.call import Call, own_order
from infra.amazon.sandbox.render import V0_CHANNEL, V0_STATUS, order_items_v0, order_v0
from infra.amazon.sandbox.rules.pagination import (
    OrderQuery,
    before_field,
    make_token,
    page,
    read_token,
)
from infra.amazon.sandbox.rules.query import MAX_LIST, MAX_PAGE, enum_list, listed, page_size
from infra.amazon.sandbox.rules.window import WINDOW_V0, parse_window

_V0_STATUS_BACK = {v: k for k, v in V0_STATUS.items()}
_V0_STATUS_VALUES = (*V0_STATUS.values(), "InvoiceUnconfirmed")
_V0_CHANNEL_BACK = {v: k for k, v in V0_CHANNEL.items()}


def get_orders_v0(call: Call) -> tuple[int, dict[str, Any]]:
    params = call.query
    size = page_size(params, "MaxResultsPerPage")
    token = params.get("NextToken")
    if token:
        payload = read_token(call.state, call.operation, call.seller_id, token)
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
        statuses = enum_list(params, "OrderStatuses", _V0_STATUS_VALUES)
        channels = enum_list(params, "FulfillmentChannels", _V0_CHANNEL_BACK)
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
        found, next_position = page(call.state, call.seller_id, query, position, size)
        payload_out: dict[str, Any] = {"Orders": [order_v0(o) for o in found]}
    if next_position is not None:
        payload_out["NextToken"] = make_token(
            call.state, call.operation, call.seller_id, query, next_position, {"size": size}
        )
    payload_out.update(before_field(query, "CreatedBefore", "LastUpdatedBefore"))
    return 200, {"payload": payload_out}


def get_order_v0(call: Call) -> tuple[int, dict[str, Any]]:
    with call.state.lock:
        return 200, {"payload": order_v0(own_order(call))}


def get_order_items_v0(call: Call) -> tuple[int, dict[str, Any]]:
    with call.state.lock:
        order = own_order(call)
        return 200, {
            "payload": {"AmazonOrderId": order.order_id, "OrderItems": order_items_v0(order)}
        }
