"""Finances v0 bodies as Amazon's model (``financesV0.json``) shapes them, for the client's and
the gateway's unit tests: amounts are JSON numbers (``BigDecimal``), written as given text so a
test can tell a decimal read from a float one."""

from __future__ import annotations

import json
from typing import Any

import httpx

ORDER_ID = "113-0000001-0000001"
EVENTS = "/finances/v0/financialEvents"
GROUPS = "/finances/v0/financialEventGroups"


def by_order(order_id: str = ORDER_ID) -> str:
    return f"/finances/v0/orders/{order_id}/financialEvents"


def by_group(group_id: str) -> str:
    return f"/finances/v0/financialEventGroups/{group_id}/financialEvents"


class Number:
    """A JSON number written exactly as its text (``json.dumps`` would go through a float)."""

    def __init__(self, text: str) -> None:
        self.text = text


def money(amount: str, currency: str = "USD") -> dict[str, Any]:
    return {"CurrencyCode": currency, "CurrencyAmount": Number(amount)}


def charge(kind: str, amount: str, currency: str = "USD") -> dict[str, Any]:
    return {"ChargeType": kind, "ChargeAmount": money(amount, currency)}


def fee(kind: str, amount: str) -> dict[str, Any]:
    return {"FeeType": kind, "FeeAmount": money(amount)}


def refund_item(
    order_item_id: str = "00000000000001",
    adjustment_id: str = "amzn1.adj.1",
    charges: tuple[dict[str, Any], ...] | None = None,
) -> dict[str, Any]:
    if charges is None:
        charges = (charge("Principal", "-20.00"), charge("Tax", "-1.60"))
    return {
        "SellerSKU": "MUG-RED",
        "OrderItemId": order_item_id,
        "OrderAdjustmentItemId": adjustment_id,
        "QuantityShipped": 2,
        "ItemChargeAdjustmentList": list(charges),
        "ItemFeeAdjustmentList": [fee("Commission", "3.00"), fee("RefundCommission", "-0.60")],
        "PromotionAdjustmentList": [],
        "AFieldAmazonAddsLater": {"x": 1},
    }


def refund_event(
    order_id: str = ORDER_ID,
    posted: str = "2026-11-02T09:15:00Z",
    items: tuple[dict[str, Any], ...] | None = None,
) -> dict[str, Any]:
    return {
        "AmazonOrderId": order_id,
        "SellerOrderId": "SO-1",
        "MarketplaceName": "Amazon.com",
        "PostedDate": posted,
        "ShipmentItemAdjustmentList": list(items if items is not None else (refund_item(),)),
    }


def shipment_event(order_id: str = ORDER_ID) -> dict[str, Any]:
    return {
        "AmazonOrderId": order_id,
        "MarketplaceName": "Amazon.com",
        "PostedDate": "2026-11-01T18:00:00Z",
        "ShipmentItemList": [
            {
                "SellerSKU": "MUG-RED",
                "OrderItemId": "00000000000001",
                "QuantityShipped": 2,
                "ItemChargeList": [charge("Principal", "20.00"), charge("Tax", "1.60")],
                "ItemFeeList": [fee("Commission", "-3.00")],
            }
        ],
    }


def _dumps(value: Any) -> str:
    if isinstance(value, Number):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    return json.dumps(value)


def events_page(
    refunds: tuple[dict[str, Any], ...] = (),
    shipments: tuple[dict[str, Any], ...] = (),
    next_token: str | None = None,
    **more_lists: Any,
) -> httpx.Response:
    events: dict[str, Any] = {
        "ShipmentEventList": list(shipments),
        "RefundEventList": list(refunds),
        "GuaranteeClaimEventList": [],
        "ServiceFeeEventList": [],
        **more_lists,
    }
    body: dict[str, Any] = {"FinancialEvents": events}
    if next_token is not None:
        body["NextToken"] = next_token
    return raw_page({"payload": body})


def raw_page(body: Any) -> httpx.Response:
    return httpx.Response(
        200,
        content=_dumps(body).encode(),
        headers={"content-type": "application/json", "x-amzn-RequestId": "req-ok"},
    )
