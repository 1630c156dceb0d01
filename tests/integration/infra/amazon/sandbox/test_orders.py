"""Searching and reading orders in both Orders API versions: pagination, filters,
includedData, pending orders, seller isolation and odd kinds of orders.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.infra.amazon.sandbox.api import (
    EPOCH,
    OTHER,
    SEARCH,
    Sandbox,
    advance,
    create,
    demo_headers,
    other_headers,
    search,
    search_ids,
)

pytestmark = pytest.mark.integration


def test_pages_cover_every_order_once_in_a_stable_order(sandbox: Sandbox) -> None:
    handle, client = sandbox
    headers = demo_headers(client)
    created = client.post("/_sandbox/orders/bulk", json={"count": 250, "spread_seconds": 600})
    advance(client, 121)

    seen: list[str] = []
    befores = set()
    params: dict[str, Any] = {"lastUpdatedAfter": EPOCH, "maxResultsPerPage": 100}
    pages = 0
    while True:
        body = search(client, headers, **params).json()
        pages += 1
        seen.extend(o["orderId"] for o in body["orders"])
        befores.add(body["lastUpdatedBefore"])
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            break
        params = {"paginationToken": token}

    assert pages == 3
    assert len(seen) == len(set(seen)) == 250
    assert set(seen) == set(created.json()["order_ids"])
    assert len(befores) == 1  # every page reports the same window
    times = [handle.state.orders[i].updated_at for i in seen]
    assert times == sorted(times)


def test_a_pagination_token_is_rejected_when_forged_foreign_or_a_day_old(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    client.post("/_sandbox/orders/bulk", json={"count": 3})
    advance(client, 121)
    token = search(client, headers, createdAfter=EPOCH, maxResultsPerPage=1).json()["pagination"][
        "nextToken"
    ]
    client.post("/_sandbox/sellers", json=OTHER)
    other = other_headers(client)

    forged = search(client, headers, paginationToken=token[:-3] + "AAA")
    foreign = search(client, other, paginationToken=token)
    valid = search(client, headers, paginationToken=token)
    advance(client, 24 * 3600 + 1)
    expired = search(client, demo_headers(client), paginationToken=token)

    assert valid.status_code == 200
    for refused in (forged, foreign, expired):
        assert refused.status_code == 400
        assert "token" in refused.json()["errors"][0]["message"].lower()
    assert "expired" in expired.json()["errors"][0]["message"]


def test_filters_accept_comma_separated_and_repeated_values(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    past = "2026-01-01T00:00:00Z"
    us_mfn = create(client, created_time=past)["order_id"]
    uk_afn = create(
        client,
        created_time=past,
        marketplace_id="A1F83G8C2ARO7P",
        fulfilled_by="AMAZON",
        status="SHIPPED",
    )["order_id"]
    de_pending = create(
        client, created_time=past, marketplace_id="A1PA6795UKMFR9", status="PENDING"
    )["order_id"]

    by_market = search_ids(client, headers, createdAfter=EPOCH, marketplaceIds="A1F83G8C2ARO7P")
    repeated = client.get(
        SEARCH,
        params=[
            ("createdAfter", EPOCH),
            ("fulfillmentStatuses", "PENDING"),
            ("fulfillmentStatuses", "SHIPPED"),
        ],
        headers=headers,
    )
    by_channel = search_ids(client, headers, createdAfter=EPOCH, fulfilledBy="MERCHANT")

    assert by_market == [uk_afn]
    assert {o["orderId"] for o in repeated.json()["orders"]} == {uk_afn, de_pending}
    assert set(by_channel) == {us_mfn, de_pending}


def test_included_data_decides_which_sections_come_back(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    order_id = create(client, created_time="2026-01-01T00:00:00Z", status="SHIPPED")["order_id"]
    path = f"{SEARCH}/{order_id}"

    bare = client.get(path, headers=headers).json()["order"]
    rich = client.get(
        path, params={"includedData": "PROCEEDS,FULFILLMENT,PACKAGES,BUYER"}, headers=headers
    ).json()["order"]

    assert not {"proceeds", "fulfillment", "packages", "buyer", "recipient"} & set(bare)
    assert {"orderItemId", "quantityOrdered", "product"} <= set(bare["orderItems"][0])
    assert "proceeds" not in bare["orderItems"][0]
    assert rich["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert rich["proceeds"]["grandTotal"]["amount"]
    assert rich["packages"][0]["packageItems"]
    assert rich["buyer"]["buyerEmail"]
    assert "recipient" not in rich


def test_a_pending_order_has_no_prices_until_it_moves_on(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    order_id = create(
        client,
        status="PENDING",
        items=[{"sku": "S-1", "quantity": 2, "unit_price": "12.50"}],
        created_time="2026-01-01T00:00:00Z",
    )["order_id"]
    params = {"includedData": "PROCEEDS,FULFILLMENT"}

    pending = client.get(f"{SEARCH}/{order_id}", params=params, headers=headers).json()["order"]
    client.post(f"/_sandbox/orders/{order_id}/status", json={"status": "UNSHIPPED"})
    unshipped = client.get(f"{SEARCH}/{order_id}", params=params, headers=headers).json()["order"]
    v0 = client.get(f"/orders/v0/orders/{order_id}/orderItems", headers=headers).json()

    assert "proceeds" not in pending and "price" not in pending["orderItems"][0]["product"]
    assert unshipped["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert unshipped["orderItems"][0]["product"]["price"]["unitPrice"] == {
        "amount": "12.50",
        "currencyCode": "USD",
    }
    assert unshipped["lastUpdatedTime"] > pending["lastUpdatedTime"]
    assert v0["payload"]["OrderItems"][0]["ItemPrice"] == {"CurrencyCode": "USD", "Amount": "25.00"}


def test_each_seller_sees_only_its_own_orders(sandbox: Sandbox) -> None:
    _, client = sandbox
    assert client.post("/_sandbox/sellers", json=OTHER).status_code == 201
    other = other_headers(client)
    theirs = create(client, seller_id=OTHER["seller_id"], created_time=EPOCH)
    mine = create(client, created_time=EPOCH)

    assert theirs["order"]["salesChannel"]["marketplaceId"] == "A1PA6795UKMFR9"
    assert search_ids(client, other, createdAfter=EPOCH) == [theirs["order_id"]]
    assert search_ids(client, demo_headers(client), createdAfter=EPOCH) == [mine["order_id"]]
    assert client.get(f"{SEARCH}/{mine['order_id']}", headers=other).status_code == 404


def test_odd_kinds_of_orders_show_in_both_versions(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    original = create(client, created_time=EPOCH, status="SHIPPED")["order_id"]
    replacement = create(
        client,
        created_time=EPOCH,
        replacement_of=original,
        business=True,
        prime=True,
        marketplace_id="A1F83G8C2ARO7P",
    )
    order = replacement["order"]
    order_id = replacement["order_id"]
    client.post(f"/_sandbox/orders/{order_id}/cancellation-request", json={"reason": "Too slow"})

    v2026 = client.get(
        f"{SEARCH}/{order_id}", params={"includedData": "CANCELLATION"}, headers=headers
    ).json()["order"]
    v0 = client.get(f"/orders/v0/orders/{order_id}", headers=headers).json()["payload"]
    v0_items = client.get(f"/orders/v0/orders/{order_id}/orderItems", headers=headers).json()

    assert order["associatedOrders"] == [
        {"orderId": original, "associationType": "REPLACEMENT_ORIGINAL_ID"}
    ]
    assert set(order["programs"]) == {"AMAZON_BUSINESS", "PRIME"}
    assert order["proceeds"]["grandTotal"]["currencyCode"] == "GBP"
    assert v2026["orderItems"][0]["cancellation"]["cancellationRequest"] == {
        "requester": "BUYER",
        "cancelReason": "Too slow",
    }
    assert v0["IsReplacementOrder"] is True and v0["ReplacedOrderId"] == original
    assert v0["IsBusinessOrder"] is True and v0["IsPrime"] is True
    assert v0["OrderStatus"] == "Unshipped" and v0["FulfillmentChannel"] == "MFN"
    assert v0["OrderTotal"]["CurrencyCode"] == "GBP"
    assert v0_items["payload"]["OrderItems"][0]["BuyerRequestedCancel"] == {
        "IsBuyerRequestedCancel": "true",
        "BuyerCancelReason": "Too slow",
    }


def test_v0_get_orders_pages_and_returns_the_before_it_applied(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    client.post(
        "/_sandbox/orders/bulk",
        json={"count": 5, "marketplace_id": "ATVPDKIKX0DER", "status": "UNSHIPPED"},
    )
    advance(client, 121)

    first = client.get(
        "/orders/v0/orders",
        params={
            "LastUpdatedAfter": EPOCH,
            "MarketplaceIds": "ATVPDKIKX0DER",
            "MaxResultsPerPage": 3,
        },
        headers=headers,
    ).json()["payload"]
    second = client.get(
        "/orders/v0/orders", params={"NextToken": first["NextToken"]}, headers=headers
    ).json()["payload"]

    assert len(first["Orders"]) == 3 and len(second["Orders"]) == 2
    assert "NextToken" not in second
    assert first["LastUpdatedBefore"] == second["LastUpdatedBefore"]
    assert {o["OrderStatus"] for o in first["Orders"] + second["Orders"]} == {"Unshipped"}
