"""A scripted Amazon for the SP-API client's unit tests: httpx's MockTransport serving queued
replies, and a rate limiter that records what the client asks of it."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from infra.amazon.client import SpApiClient
from infra.amazon.errors import RateLimitTimeout
from infra.amazon.lwa import LwaCredentials, LwaTokenProvider

ENDPOINT = "https://sellingpartnerapi-na.amazon.com"
TOKEN_URL = "https://api.amazon.com/auth/o2/token"
SELLER = "A1SANDBOXDEMO:NA"
CREDENTIALS = LwaCredentials(
    client_id="amzn1.application-oa2-client.sandbox",
    client_secret="sandbox-secret",
    refresh_token="Atzr|sandbox-demo-seller",
)
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SEARCH = "/orders/2026-01-01/orders"

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
    estimate_after_429: float = 2.5  # what the bucket says after a 429, in seconds

    def acquire(self, seller_key: str, operation_key: str, timeout_s: float | None = None) -> float:
        self.timeouts.append(timeout_s)
        if self.refuse:
            raise RateLimitTimeout("no token", operation=operation_key, retry_after_s=42.0)
        self.acquired.append(operation_key)
        return 0.0

    def on_throttled(self, seller_key: str, operation_key: str) -> float | None:
        self.throttled.append(operation_key)
        return self.estimate_after_429

    def observe_rate_limit_header(
        self, seller_key: str, operation_key: str, header_value: str | None
    ) -> None:
        self.headers.append((operation_key, header_value))


def amazon_error(status: int, code: str, message: str = "", details: str = "") -> httpx.Response:
    return httpx.Response(
        status,
        json={"errors": [{"code": code, "message": message or code, "details": details}]},
        headers={"x-amzn-RequestId": f"req-{status}"},
    )


def query(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


@contextmanager
def scripted_client(
    amazon: FakeAmazon,
    limiter: RecordingLimiter,
    sleeps: list[float],
    *,
    max_wait_s: float | None = None,
) -> Iterator[SpApiClient]:
    """A client on ``amazon``: its sleeps recorded (not slept), its jitter and clock fixed."""
    http = httpx.Client(transport=httpx.MockTransport(amazon))
    tokens = LwaTokenProvider(TOKEN_URL, CREDENTIALS, http)
    with SpApiClient(
        ENDPOINT,
        SELLER,
        tokens,
        limiter,
        http,
        max_wait_s=max_wait_s,
        sleep=sleeps.append,
        rng=random.Random(7),
        now=lambda: T0,
    ) as spapi:
        yield spapi
