"""The SP-API client over httpx's MockTransport: requests, parsing at the edge, retry rules."""

from __future__ import annotations

import gzip
import logging
import pickle
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import fakeredis
import httpx
import pytest

from infra.amazon.client import SpApiClient, build_client
from infra.amazon.errors import (
    AmazonAuthError,
    AmazonError,
    AmazonNotFound,
    AmazonPermanentError,
    AmazonServerError,
    AmazonUnreachable,
    InvalidInput,
    RateLimitTimeout,
    Throttled,
    UnexpectedResponse,
)
from infra.amazon.lwa import LwaCredentials, LwaTokenProvider
from infra.amazon.ratelimit import InProcessRateLimiter, NoRateLimiter, RedisRateLimiter
from infra.amazon.schemas import SearchOrdersResponse
from infra.settings import Region, load_settings

ENDPOINT = "https://sellingpartnerapi-na.amazon.com"
TOKEN_URL = "https://api.amazon.com/auth/o2/token"
SELLER = "A1SANDBOXDEMO:NA"
CREDENTIALS = LwaCredentials(
    client_id="amzn1.application-oa2-client.sandbox",
    client_secret="sandbox-secret",
    refresh_token="Atzr|sandbox-demo-seller",
)
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def order_json(n: int, **changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "orderId": f"113-{n:07d}-0000001",
        "orderAliases": [{"aliasId": f"SO-{n}", "aliasType": "SELLER_ORDER_ID"}],
        "createdTime": "2026-11-01T10:00:00Z",
        "lastUpdatedTime": "2026-11-01T11:00:00Z",
        "programs": ["PRIME", "SOMETHING_AMAZON_ADDS_NEXT_YEAR"],
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
        "buyer": {"buyerName": "Jane Buyer", "buyerEmail": "jane@example.com"},
        "proceeds": {
            "grandTotal": {"amount": "19.98", "currencyCode": "USD"},
            "breakdowns": [
                {"type": "ITEM", "subtotal": {"amount": "19.98", "currencyCode": "USD"}}
            ],
        },
        "fulfillment": {
            "fulfillmentStatus": "UNSHIPPED",
            "fulfilledBy": "MERCHANT",
            "shipByWindow": {"latestDateTime": "2026-11-03T23:59:59Z"},
        },
        "orderItems": [
            {
                "orderItemId": f"{n:014d}",
                "quantityOrdered": 2,
                "product": {
                    "asin": "B000000001",
                    "sellerSku": f"SKU-{n}",
                    "price": {"unitPrice": {"amount": "9.99", "currencyCode": "USD"}},
                },
                "cancellation": {
                    "cancellationRequest": {"requester": "BUYER", "cancelReason": "changed mind"}
                },
                "fulfillment": {"quantityFulfilled": 0, "quantityUnfulfilled": 2},
                "aFieldAmazonAddedLater": {"x": 1},
            }
        ],
        "packages": [
            {
                "packageReferenceId": "1",
                "carrier": "UPS",
                "trackingNumber": "1Z999",
                "shipTime": "2026-11-01T11:30:00+00:00",
                "packageStatus": {"status": "A_NEW_STATUS"},
                "packageItems": [{"orderItemId": f"{n:014d}", "quantity": 1}],
            }
        ],
    }
    order.update(changes)
    return order


@dataclass
class FakeAmazon:
    """Scripted SP-API + LWA: queued replies per path, default replies, every request kept."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)
    defaults: dict[str, Reply] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    token_requests: int = 0

    def queue(self, path: str, *replies: Reply) -> None:
        self.replies.setdefault(path, []).extend(replies)

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.token_requests += 1
            return httpx.Response(
                200, json={"access_token": f"Atza|{self.token_requests}", "expires_in": 3600}
            )
        self.requests.append(request)
        path = request.url.path
        queued = self.replies.get(path)
        reply = queued.pop(0) if queued else self.defaults.get(path)
        if reply is None:
            return httpx.Response(404, json={"errors": [{"code": "NotFound", "message": path}]})
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply


@dataclass
class RecordingLimiter:
    """The rate limiter port, recording what the client asks of it."""

    acquired: list[str] = field(default_factory=list)
    throttled: list[str] = field(default_factory=list)
    headers: list[tuple[str, str | None]] = field(default_factory=list)
    timeouts: list[float | None] = field(default_factory=list)
    refuse: bool = False

    def acquire(self, seller_key: str, operation_key: str, timeout_s: float | None = None) -> float:
        self.timeouts.append(timeout_s)
        if self.refuse:
            raise RateLimitTimeout("no token", operation=operation_key, retry_after_s=42.0)
        self.acquired.append(operation_key)
        return 0.0

    def on_throttled(self, seller_key: str, operation_key: str) -> None:
        self.throttled.append(operation_key)

    def observe_rate_limit_header(
        self, seller_key: str, operation_key: str, header_value: str | None
    ) -> None:
        self.headers.append((operation_key, header_value))


@pytest.fixture
def amazon() -> FakeAmazon:
    return FakeAmazon()


@pytest.fixture
def limiter() -> RecordingLimiter:
    return RecordingLimiter()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(
    amazon: FakeAmazon, limiter: RecordingLimiter, sleeps: list[float]
) -> Iterator[SpApiClient]:
    http = httpx.Client(transport=httpx.MockTransport(amazon))
    tokens = LwaTokenProvider(TOKEN_URL, CREDENTIALS, http)
    with SpApiClient(
        ENDPOINT,
        SELLER,
        tokens,
        limiter,
        http,
        sleep=sleeps.append,
        rng=random.Random(7),
        now=lambda: T0,
    ) as spapi:
        yield spapi


def amazon_error(status: int, code: str, message: str = "", details: str = "") -> httpx.Response:
    return httpx.Response(
        status,
        json={"errors": [{"code": code, "message": message or code, "details": details}]},
        headers={"x-amzn-RequestId": f"req-{status}"},
    )


SEARCH = "/orders/2026-01-01/orders"


def query(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


# -- requests ------------------------------------------------------------------------------------


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


# -- parsing at the edge -----------------------------------------------------------------------


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


# -- retries -------------------------------------------------------------------------------------


def test_429s_are_retried_with_capped_full_jitter_backoff(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter, sleeps: list[float]
) -> None:
    amazon.queue(
        SEARCH,
        amazon_error(429, "QuotaExceeded"),
        amazon_error(429, "QuotaExceeded"),
        amazon_error(429, "QuotaExceeded"),
        httpx.Response(200, json={"orders": []}),
    )
    client.search_orders(last_updated_after=T0)
    assert len(amazon.requests) == 4
    assert limiter.acquired == ["orders2026.searchOrders"] * 4  # every attempt pays a token
    assert limiter.throttled == ["orders2026.searchOrders"] * 3
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps, start=1):
        assert 0 <= slept <= min(30.0, 0.5 * 2 ** (attempt - 1))


def test_retries_stop_after_max_attempts(
    client: SpApiClient, amazon: FakeAmazon, sleeps: list[float]
) -> None:
    amazon.defaults[SEARCH] = amazon_error(503, "ServiceUnavailable")
    with pytest.raises(AmazonServerError) as caught:
        client.search_orders(last_updated_after=T0)
    assert len(amazon.requests) == 6
    assert len(sleeps) == 5
    assert caught.value.status_code == 503 and caught.value.request_id == "req-503"
    assert caught.value.operation == "orders2026.searchOrders"


def test_an_impatient_read_asks_for_a_free_token_and_tries_once(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter, sleeps: list[float]
) -> None:
    path = "/orders/2026-01-01/orders/113-0000001-0000001"
    amazon.queue(path, amazon_error(429, "QuotaExceeded"))  # a retry would meet a 404
    with pytest.raises(Throttled):
        client.get_order("113-0000001-0000001", patient=False)
    assert len(amazon.calls(path)) == 1 and sleeps == []
    assert limiter.timeouts == [0.0]  # no waiting for the budget either
    assert limiter.throttled == ["orders2026.getOrder"]  # a 429 still empties our bucket
    limiter.refuse = True
    with pytest.raises(RateLimitTimeout):
        client.get_order("113-0000001-0000001", patient=False)
    assert len(amazon.calls(path)) == 1  # nothing sent without a token
    limiter.refuse = False
    amazon.queue(path, amazon_error(429, "QuotaExceeded"))
    amazon.defaults[path] = httpx.Response(200, json={"order": order_json(1)})
    client.get_order("113-0000001-0000001")  # patient, as every other call: retried
    assert len(amazon.calls(path)) == 3 and len(sleeps) == 1
    assert limiter.timeouts[-2:] == [None, None]


def test_the_backoff_is_capped() -> None:
    spapi = SpApiClient(
        ENDPOINT,
        SELLER,
        LwaTokenProvider(TOKEN_URL, CREDENTIALS, httpx.Client()),
        NoRateLimiter(),
        httpx.Client(),
        backoff_base_s=1.0,
        backoff_cap_s=4.0,
        rng=random.Random(1),
    )
    draws = [spapi._backoff(attempt) for attempt in range(1, 50) for _ in range(20)]
    assert max(draws) <= 4.0 and max(draws) > 3.0 and min(draws) >= 0
    spapi.close()


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_for_reads(
    client: SpApiClient, amazon: FakeAmazon, status: int
) -> None:
    path = "/orders/2026-01-01/orders/113-0000001-0000001"
    amazon.queue(
        path,
        amazon_error(status, "InternalFailure"),
        httpx.Response(200, json={"order": order_json(1)}),
    )
    assert client.get_order("113-0000001-0000001").order_id == "113-0000001-0000001"
    assert len(amazon.requests) == 2


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, InvalidInput),
        (404, AmazonNotFound),
        (409, AmazonPermanentError),
        (413, AmazonPermanentError),
        (415, AmazonPermanentError),
    ],
)
def test_client_errors_are_never_retried(
    client: SpApiClient,
    amazon: FakeAmazon,
    sleeps: list[float],
    status: int,
    error_type: type[AmazonError],
) -> None:
    amazon.queue(
        SEARCH, amazon_error(status, "InvalidInput", "Invalid createdAfter", "must be ISO 8601")
    )
    with pytest.raises(error_type) as caught:
        client.search_orders(last_updated_after=T0)
    assert type(caught.value) is error_type
    assert len(amazon.requests) == 1 and sleeps == []
    error = caught.value
    assert (error.status_code, error.code, error.message, error.details) == (
        status,
        "InvalidInput",
        "Invalid createdAfter",
        "must be ISO 8601",
    )
    assert error.request_id == f"req-{status}"


def test_a_403_refreshes_the_token_once(client: SpApiClient, amazon: FakeAmazon) -> None:
    amazon.queue(
        SEARCH,
        amazon_error(403, "Unauthorized", "Access to the resource is forbidden"),
        httpx.Response(200, json={"orders": []}),
    )
    client.search_orders(last_updated_after=T0)
    tokens = [r.headers["x-amz-access-token"] for r in amazon.requests]
    assert tokens == ["Atza|1", "Atza|2"]
    assert amazon.token_requests == 2


def test_a_second_403_is_an_auth_error(
    client: SpApiClient, amazon: FakeAmazon, sleeps: list[float]
) -> None:
    amazon.defaults[SEARCH] = amazon_error(403, "Unauthorized")
    with pytest.raises(AmazonAuthError):
        client.search_orders(last_updated_after=T0)
    assert len(amazon.requests) == 2 and amazon.token_requests == 2 and sleeps == []


def test_connect_errors_are_retried_even_for_createfeed(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    path = "/feeds/2021-06-30/feeds"
    amazon.queue(
        path,
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.Response(202, json={"feedId": "F1"}),
    )
    assert client.create_feed("POST_PAYMENT_ADJUSTMENT_DATA", ["ATVPDKIKX0DER"], "D1") == "F1"
    assert len(amazon.requests) == 3
    assert amazon.requests[0].read() == (
        b'{"feedType":"POST_PAYMENT_ADJUSTMENT_DATA","marketplaceIds":["ATVPDKIKX0DER"],'
        b'"inputFeedDocumentId":"D1"}'
    )


@pytest.mark.parametrize(
    "lost",
    [
        httpx.ReadTimeout("no answer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
    ],
)
def test_a_lost_createfeed_response_is_maybe_applied_and_not_resent(
    client: SpApiClient, amazon: FakeAmazon, lost: Exception
) -> None:
    amazon.queue("/feeds/2021-06-30/feeds", lost, httpx.Response(202, json={"feedId": "F2"}))
    with pytest.raises(AmazonUnreachable) as caught:
        client.create_feed("POST_PAYMENT_ADJUSTMENT_DATA", ["ATVPDKIKX0DER"], "D1")
    assert caught.value.request_sent is True and caught.value.maybe_applied is True
    assert len(amazon.requests) == 1


def test_a_createfeed_server_error_is_not_resent(client: SpApiClient, amazon: FakeAmazon) -> None:
    amazon.queue("/feeds/2021-06-30/feeds", amazon_error(500, "InternalFailure"))
    with pytest.raises(AmazonServerError) as caught:
        client.create_feed("POST_PAYMENT_ADJUSTMENT_DATA", ["ATVPDKIKX0DER"], "D1")
    assert caught.value.maybe_applied is True
    assert len(amazon.requests) == 1


def test_lost_responses_are_retried_for_idempotent_operations(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    confirm = "/orders/v0/orders/113-0000001-0000001/shipmentConfirmation"
    amazon.queue(confirm, httpx.ReadTimeout("no answer"), httpx.Response(204))
    package = {
        "packageReferenceId": "1",
        "carrierCode": "UPS",
        "trackingNumber": "1Z999",
        "shipDate": "2026-11-01T12:00:00Z",
        "orderItems": [{"orderItemId": "1", "quantity": 1}],
    }
    client.confirm_shipment("113-0000001-0000001", "ATVPDKIKX0DER", package)
    first, second = amazon.calls(confirm)
    assert first.read() == second.read()  # the resend is the same edit of package 1
    get = "/orders/2026-01-01/orders/113-0000001-0000001"
    amazon.queue(
        get,
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(200, json={"order": order_json(1)}),
    )
    client.get_order("113-0000001-0000001")
    assert len(amazon.calls(get)) == 2


def test_our_own_bucket_timing_out_sends_nothing(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter
) -> None:
    limiter.refuse = True
    with pytest.raises(RateLimitTimeout) as caught:
        client.search_orders(last_updated_after=T0)
    assert caught.value.retry_after_s == 42.0
    assert amazon.requests == [] and amazon.token_requests == 0


def test_errors_survive_pickling() -> None:
    errors: list[AmazonError] = [
        InvalidInput("bad", operation="op", status_code=400, code="InvalidInput", details="d"),
        Throttled("slow", operation="op", status_code=429, request_id="r"),
        AmazonUnreachable("lost", operation="op", request_sent=True),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert copy.__dict__ == error.__dict__


# -- feeds and documents -------------------------------------------------------------------------


def test_the_feed_flow(client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter) -> None:
    upload_url = "https://tortuga-prod-na.s3.amazonaws.com/doc-in?X-Amz-Signature=abc"
    result_url = "https://tortuga-prod-na.s3.amazonaws.com/doc-out?X-Amz-Signature=def"
    report = b"<AmazonEnvelope>...</AmazonEnvelope>"
    amazon.queue(
        "/feeds/2021-06-30/documents",
        httpx.Response(201, json={"feedDocumentId": "D1", "url": upload_url}),
    )
    amazon.queue("/doc-in", httpx.Response(200))
    amazon.queue("/feeds/2021-06-30/feeds", httpx.Response(202, json={"feedId": "F1"}))
    amazon.queue(
        "/feeds/2021-06-30/feeds/F1",
        httpx.Response(
            200,
            json={"feedId": "F1", "processingStatus": "DONE", "resultFeedDocumentId": "R1"},
        ),
    )
    amazon.queue(
        "/feeds/2021-06-30/documents/R1",
        httpx.Response(
            200, json={"feedDocumentId": "R1", "url": result_url, "compressionAlgorithm": "GZIP"}
        ),
    )
    amazon.queue("/doc-out", httpx.Response(200, content=gzip.compress(report)))

    content_type = "text/xml; charset=UTF-8"
    document_id, url = client.create_feed_document(content_type)
    client.upload_feed_document(url, b"<xml/>", content_type)
    feed_id = client.create_feed("POST_ORDER_FULFILLMENT_DATA", ["ATVPDKIKX0DER"], document_id)
    feed = client.get_feed(feed_id)
    location, compression = client.get_feed_document(feed["resultFeedDocumentId"])
    assert client.download_document(location, compression) == report

    upload = amazon.calls("/doc-in")[0]
    assert upload.method == "PUT" and upload.read() == b"<xml/>"
    assert upload.headers["content-type"] == content_type
    assert "x-amz-access-token" not in upload.headers
    assert "x-amz-access-token" not in amazon.calls("/doc-out")[0].headers
    assert limiter.acquired == [
        "feeds.createFeedDocument",
        "feeds.createFeed",
        "feeds.getFeed",
        "feeds.getFeedDocument",
    ]


def test_a_document_the_transport_already_decoded_is_returned_as_is(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue("/plain", httpx.Response(200, content=b"settlement-id\tamount\n"))
    url = "https://tortuga-prod-na.s3.amazonaws.com/plain"
    assert client.download_document(url, "GZIP") == b"settlement-id\tamount\n"


# -- logging and configuration -------------------------------------------------------------------


def test_calls_are_logged_without_tokens(
    client: SpApiClient, amazon: FakeAmazon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    amazon.queue(
        SEARCH,
        amazon_error(429, "QuotaExceeded"),
        httpx.Response(200, json={"orders": [order_json(1)]}, headers={"x-amzn-RequestId": "r1"}),
    )
    client.search_orders(last_updated_after=T0)
    calls = [r for r in caplog.records if r.getMessage() == "spapi call"]
    assert [(r.__dict__["status"], r.__dict__["attempt"]) for r in calls] == [(429, 1), (200, 2)]
    assert calls[1].__dict__["request_id"] == "r1"
    assert calls[1].__dict__["operation"] == "orders2026.searchOrders"
    everything = " ".join(repr(r.__dict__) for r in caplog.records)
    for secret in ("Atza|", "sandbox-secret", "Atzr|", "jane@example.com"):
        assert secret not in everything


def test_build_client_is_configured_by_settings_only() -> None:
    redis_client = fakeredis.FakeRedis()
    sandbox = load_settings(sandbox_port=9999, sandbox_rate_factor=50, rate_safety=0.8)
    client = build_client(sandbox, SELLER, CREDENTIALS, redis_client)
    assert client.endpoint == "http://127.0.0.1:9999"
    assert client.tokens.token_url == "http://127.0.0.1:9999/auth/o2/token"
    assert isinstance(client.limiter, RedisRateLimiter)
    assert (client.limiter.rate_factor, client.limiter.safety) == (50, 0.8)
    timeout = client.http.timeout
    assert (timeout.connect, timeout.read) == (sandbox.http_connect_timeout, 30.0)
    client.close()

    lifted = build_client(load_settings(sandbox_rate_factor=0), SELLER, CREDENTIALS, redis_client)
    assert isinstance(lifted.limiter, NoRateLimiter)
    lifted.close()

    europe = build_client(load_settings(amazon_region=Region.EU), SELLER, CREDENTIALS, None)
    assert europe.endpoint == "https://sellingpartnerapi-eu.amazon.com"
    assert europe.tokens.token_url == TOKEN_URL
    assert isinstance(europe.limiter, InProcessRateLimiter)
    assert europe.limiter.rate_factor == 1.0
    europe.close()
