"""What the finance tests share: Finances v0 calls with amounts read as decimals, a refund made
in Seller Central, and sums over an event's charges and fees."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from tests.integration.infra.amazon.sandbox.feeds.support import Sandbox

FINANCES = "/finances/v0"


def body_of(response: httpx.Response) -> Any:
    """The JSON with every number a Decimal, as a client should read Amazon's amounts."""
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def finances(sandbox: Sandbox, path: str, **params: Any) -> httpx.Response:
    return sandbox.client.get(f"{FINANCES}/{path}", params=params, headers=sandbox.headers)


def order_events(sandbox: Sandbox, order_id: str) -> dict[str, Any]:
    """listFinancialEventsByOrderId's FinancialEvents (one page: the tests post few events)."""
    payload = body_of(finances(sandbox, f"orders/{order_id}/financialEvents"))["payload"]
    assert "NextToken" not in payload
    events: dict[str, Any] = payload["FinancialEvents"]
    return events


def amounts(entries: list[dict[str, Any]], kind: str = "Charge") -> dict[str, Decimal]:
    """``{ChargeType: amount}`` of a charge list (``kind`` "Fee" for a fee list), summed."""
    found: dict[str, Decimal] = {}
    for entry in entries:
        name = entry[f"{kind}Type"]
        found[name] = found.get(name, Decimal(0)) + entry[f"{kind}Amount"]["CurrencyAmount"]
    return found


def seller_central_refund(
    sandbox: Sandbox,
    order_id: str,
    items: dict[str, dict[str, str]],
    reason: str = "CustomerReturn",
) -> httpx.Response:
    """A refund made by hand in Seller Central: ``{order item id: {Type: amount}}``."""
    return sandbox.client.post(
        f"/_sandbox/orders/{order_id}/seller-central-refunds",
        json={
            "reason": reason,
            "items": [
                {
                    "order_item_id": item_id,
                    "components": [{"type": t, "amount": a} for t, a in components.items()],
                }
                for item_id, components in items.items()
            ],
        },
    )


def adjustments(sandbox: Sandbox, order_id: str) -> list[dict[str, Any]]:
    response = sandbox.client.get(f"/_sandbox/orders/{order_id}/adjustments")
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["adjustments"]
    assert response.json()["count"] == len(listed)
    return listed


def charged(sandbox: Sandbox, order_id: str) -> dict[str, dict[str, Decimal]]:
    """What each line charged, by the adjustment feed's component Type (from v0's items)."""
    lines = sandbox.view(order_id)["v0"]["order_items"]
    return {
        line["OrderItemId"]: {
            "Principal": Decimal(line["ItemPrice"]["Amount"]),
            "Shipping": Decimal(line["ShippingPrice"]["Amount"]),
            "Tax": Decimal(line["ItemTax"]["Amount"]),
            "ShippingTax": Decimal(line["ShippingTax"]["Amount"]),
        }
        for line in lines
    }
