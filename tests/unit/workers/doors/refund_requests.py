"""Requests the refund doors' unit tests send, and their refusals by field."""

from __future__ import annotations

from typing import Any

import pytest

from workers.doors.refunds import RefundRequestRefused

ORDER_ID = "113-0000001-0000001"
NOTHING_BACK = (
    "give back more than 0 in one component at least (a restocking_fee is kept back, not "
    "given back)"
)
MORE_THAN_ZERO = (
    "must be more than 0 (an Amazon order is paid: a cancellation gives back what the "
    "cancelled units charged); leave it out to have that computed"
)
REFUND_ITEM = "{order_item_id or sku, amounts or quantity}"
TYPES = "must be 'refund.requested' or 'cancellation.requested'"


def refund(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_refund_id": "R-1",
        "reason": "customer_return",
        "lines": [{"order_item_id": "ITEM-A", "amounts": {"item_price": "19.99"}}],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def cancellation(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_cancellation_id": "C-1",
        "reason": "buyer_canceled",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def line(**amounts: Any) -> dict[str, Any]:
    return {"sku": "MUG-RED", "amounts": amounts}


def refusals(read: Any, data: Any) -> dict[str, str]:
    with pytest.raises(RefundRequestRefused) as caught:
        read(data)
    found = {e.field: e.reason for e in caught.value.errors}
    assert len(found) == len(caught.value.errors), "one reason per field"
    return found
