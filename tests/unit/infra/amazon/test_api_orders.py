"""Orders v2026-01-01 over a scripted Amazon: the requests Amazon's rules allow, and parsing at
the edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from infra.amazon.client import SpApiClient
from infra.amazon.errors import UnexpectedResponse
from infra.amazon.schemas import SearchOrdersResponse
from tests.unit.infra.amazon.fake_spapi import (
    ENDPOINT,
    SEARCH,
    T0,
    FakeAmazon,
    RecordingLimiter,
    order_json,
    query,
)


def test_a_search_carries_the_token_headers_and_amazons_parameters(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter
) -> None:
    amazon.queue(
        SEARCH,
        httpx.Response(
            200, json={"orders": [order_json(1)]}, headers={"x-amzn-RateLimit-Limit": "0.0056"}
        ),
    )
    client.search_orders(
        last_updated_after=datetime(2026, 11, 1, 7, 0, 30, 999, tzinfo=UTC) + timedelta(hours=5),
        marketplace_ids=["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
        fulfillment_statuses=["UNSHIPPED", "PARTIALLY_SHIPPED"],
        included_data=("PROCEEDS", "FULFILLMENT"),
        max_results=50,
    )
    (request,) = amazon.requests
    assert request.method == "GET"
    assert request.headers["x-amz-access-token"] == "Atza|1"
    assert request.headers["x-amz-date"] == "20261101T120000Z"
    assert request.headers["user-agent"] == "amazon-channel/0.1 (Language=Python)"
    assert query(request) == {
        "lastUpdatedAfter": "2026-11-01T12:00:30Z",
        "marketplaceIds": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2",
        "fulfillmentStatuses": "UNSHIPPED,PARTIALLY_SHIPPED",
        "includedData": "PROCEEDS,FULFILLMENT",
        "maxResultsPerPage": "50",
    }
    assert limiter.acquired == ["orders2026.searchOrders"]
    assert limiter.headers == [("orders2026.searchOrders", "0.0056")]


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"created_after": T0, "last_updated_after": T0},
        {"created_after": T0, "last_updated_before": T0},
        {"last_updated_after": T0.replace(tzinfo=None)},
        {"last_updated_after": T0, "max_results": 101},
    ],
)
def test_a_search_amazon_would_refuse_costs_no_call(
    client: SpApiClient, amazon: FakeAmazon, arguments: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        client.search_orders(**arguments)
    assert amazon.requests == []


def test_pages_are_followed_with_the_same_filters(client: SpApiClient, amazon: FakeAmazon) -> None:
    amazon.queue(
        SEARCH,
        httpx.Response(200, json={"orders": [order_json(1)], "pagination": {"nextToken": "p2"}}),
        httpx.Response(200, json={"orders": [order_json(2)], "pagination": {"nextToken": "p3"}}),
        httpx.Response(200, json={"orders": [], "lastUpdatedBefore": "2026-11-01T11:58:00Z"}),
    )
    pages = list(client.iter_search_orders(created_after=T0, included_data=("PACKAGES",)))
    assert [len(p.orders) for p in pages] == [1, 1, 0]
    first, second, third = (query(r) for r in amazon.requests)
    assert "paginationToken" not in first
    assert second == {**first, "paginationToken": "p2"}
    assert third == {**first, "paginationToken": "p3"}
    assert pages[-1].next_token is None
    assert pages[-1].last_updated_before == datetime(2026, 11, 1, 11, 58, tzinfo=UTC)


def test_a_token_alone_is_enough_for_a_later_page(client: SpApiClient, amazon: FakeAmazon) -> None:
    amazon.queue(SEARCH, httpx.Response(200, json={"orders": []}))
    client.search_orders_raw(pagination_token="p2", included_data=("PROCEEDS",), max_results=10)
    assert query(amazon.requests[0]) == {
        "paginationToken": "p2",
        "includedData": "PROCEEDS",
        "maxResultsPerPage": "10",
    }


def test_an_opaque_token_is_sent_byte_for_byte_as_httpx_would_encode_it(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    token = "a+b/c=d&e f%20g?h#i,j:k~ü"
    amazon.queue(SEARCH, httpx.Response(200, json={"orders": []}))
    client.search_orders_raw(pagination_token=token, max_results=10)
    params = {"maxResultsPerPage": "10", "paginationToken": token}
    expected = httpx.Client().build_request("GET", f"{ENDPOINT}{SEARCH}", params=params)
    (request,) = amazon.requests
    assert request.url.raw_path == expected.url.raw_path
    assert query(request)["paginationToken"] == token


def test_orders_parse_tolerantly(client: SpApiClient, amazon: FakeAmazon) -> None:
    amazon.queue(SEARCH, httpx.Response(200, json={"orders": [order_json(1)], "newTopLevel": 1}))
    page = client.search_orders(last_updated_after=T0)
    (order,) = page.orders
    assert order.order_id == "113-0000001-0000001"
    assert order.seller_order_id == "SO-1"
    assert order.created_time == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert order.programs == ["PRIME", "SOMETHING_AMAZON_ADDS_NEXT_YEAR"]
    assert order.proceeds is not None and order.proceeds.grand_total is not None
    assert order.proceeds.grand_total.amount == Decimal("19.98")
    assert isinstance(order.proceeds.grand_total.amount, Decimal)
    assert order.fulfillment is not None and order.fulfillment.fulfillment_status == "UNSHIPPED"
    (item,) = order.order_items
    assert item.product.price is not None and item.product.price.unit_price is not None
    assert item.product.price.unit_price.amount == Decimal("9.99")
    assert item.cancellation is not None and item.cancellation.cancellation_request is not None
    assert item.cancellation.cancellation_request.requester == "BUYER"
    (package,) = order.packages
    assert package.package_status is not None and package.package_status.status == "A_NEW_STATUS"
    assert package.ship_time == datetime(2026, 11, 1, 11, 30, tzinfo=UTC)
    assert "jane" not in repr(order).lower()  # buyer PII stays out of reprs


def test_an_order_that_does_not_parse_is_set_aside_not_the_page(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    bad_time = order_json(2, createdTime="2026-11-01T10:00:00")  # naive
    bad_money = order_json(3, proceeds={"grandTotal": {"amount": "lots", "currencyCode": "USD"}})
    amazon.queue(
        SEARCH,
        httpx.Response(200, json={"orders": [order_json(1), bad_time, bad_money, "junk"]}),
    )
    page = client.search_orders(last_updated_after=T0)
    assert [o.order_id for o in page.orders] == ["113-0000001-0000001"]
    assert [u.order_id for u in page.unparsed_orders] == [
        "113-0000002-0000001",
        "113-0000003-0000001",
        None,
    ]
    assert "createdTime" in page.unparsed_orders[0].error
    assert "lots" not in page.unparsed_orders[1].error  # reasons do not echo values
    assert page.unparsed_orders[1].raw == bad_money
    again = SearchOrdersResponse.model_validate(page.model_dump(by_alias=True))
    assert again.orders == page.orders


def test_get_order_returns_the_order(client: SpApiClient, amazon: FakeAmazon) -> None:
    path = "/orders/2026-01-01/orders/113-0000001-0000001"
    amazon.queue(path, httpx.Response(200, json={"order": order_json(1)}))
    order = client.get_order("113-0000001-0000001", included_data=("PACKAGES", "PROCEEDS"))
    assert order.order_items[0].quantity_ordered == 2
    assert query(amazon.requests[0]) == {"includedData": "PACKAGES,PROCEEDS"}


def test_a_body_that_breaks_amazons_model_is_a_permanent_error(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    path = "/orders/2026-01-01/orders/113-0000001-0000001"
    amazon.queue(path, httpx.Response(200, json={"order": {"orderId": 5}}))
    amazon.queue(path, httpx.Response(200, text="<html>"))
    with pytest.raises(UnexpectedResponse):
        client.get_order("113-0000001-0000001")
    with pytest.raises(UnexpectedResponse):
        client.get_order("113-0000001-0000001")
    assert len(amazon.requests) == 2
