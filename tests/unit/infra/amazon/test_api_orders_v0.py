"""Orders v0 over a scripted Amazon: pages of orders, bad ones set aside, every item page joined."""

from __future__ import annotations

from decimal import Decimal

import httpx

from infra.amazon.client import SpApiClient
from tests.unit.infra.amazon.fake_spapi import (
    T0,
    FakeAmazon,
    query,
)


def test_v0_orders_and_items(client: SpApiClient, amazon: FakeAmazon) -> None:
    v0_order = {
        "AmazonOrderId": "113-0000001-0000001",
        "PurchaseDate": "2026-11-01T10:00:00Z",
        "LastUpdateDate": "2026-11-01T11:00:00Z",
        "OrderStatus": "InvoiceUnconfirmed",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": "19.98"},
        "IsPrime": False,
        "IsISPU": "false",
        "ShippingAddress": {"Name": "Jane Buyer"},
    }
    amazon.queue(
        "/orders/v0/orders",
        httpx.Response(
            200,
            json={
                "payload": {
                    "Orders": [v0_order, {"AmazonOrderId": "x"}],
                    "NextToken": "n2",
                    "LastUpdatedBefore": "2026-11-01T11:58:00Z",
                }
            },
        ),
    )
    payload = client.get_orders_v0(marketplace_ids=["ATVPDKIKX0DER"], last_updated_after=T0)
    (order,) = payload.orders
    assert order.order_total is not None and order.order_total.amount == Decimal("19.98")
    assert order.order_status == "InvoiceUnconfirmed" and order.is_ispu is False
    assert [u.order_id for u in payload.unparsed_orders] == ["x"]
    assert payload.next_token == "n2"
    assert "Jane" not in repr(order)
    assert query(amazon.requests[0])["MarketplaceIds"] == "ATVPDKIKX0DER"

    items_path = "/orders/v0/orders/113-0000001-0000001/orderItems"
    item = {"ASIN": "B01", "OrderItemId": "1", "QuantityOrdered": 1, "IsGift": "false"}
    amazon.queue(
        items_path,
        httpx.Response(
            200,
            json={
                "payload": {
                    "AmazonOrderId": "113-0000001-0000001",
                    "OrderItems": [item],
                    "NextToken": "i2",
                }
            },
        ),
        httpx.Response(
            200,
            json={
                "payload": {
                    "AmazonOrderId": "113-0000001-0000001",
                    "OrderItems": [
                        {
                            **item,
                            "OrderItemId": "2",
                            "CODFee": {"CurrencyCode": "JPY", "Amount": "10.00"},
                        }
                    ],
                }
            },
        ),
    )
    items = client.get_order_items_v0("113-0000001-0000001")
    assert [i.order_item_id for i in items.order_items] == ["1", "2"]
    assert items.order_items[1].cod_fee is not None
    assert items.order_items[1].cod_fee.amount == Decimal("10.00")
    assert items.next_token is None
    assert [query(r).get("NextToken") for r in amazon.calls(items_path)] == [None, "i2"]
