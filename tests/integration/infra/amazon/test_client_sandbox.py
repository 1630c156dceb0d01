"""The SP-API client against the sandbox over real HTTP, with Amazon's failures injected.

Whatever the sandbox throws at it (429s, 500/503s, dropped connections, responses lost after
the work was done) a search still returns every order exactly once and ``getOrder`` still
returns the order; a non-idempotent ``createFeed`` whose response is lost is reported as
"maybe applied" and not resent.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis

from infra.amazon.client import SpApiClient, build_client
from infra.amazon.errors import (
    AmazonNotFound,
    AmazonServerError,
    AmazonUnreachable,
    InvalidInput,
    Throttled,
)
from infra.amazon.lwa import LwaCredentials
from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from infra.amazon.sandbox.server import running_sandbox
from infra.settings import Region, load_settings

pytestmark = pytest.mark.integration

# Fast enough that a test waits seconds, not minutes, for searchOrders (Amazon: 1 per 180 s).
RATE_FACTOR = 200
MARKETPLACE = "ATVPDKIKX0DER"
CREDENTIALS = LwaCredentials(
    client_id="amzn1.application-oa2-client.sandbox",
    client_secret="sandbox-secret",
    refresh_token="Atzr|sandbox-demo-seller",
)


class Sandbox:
    """The running sandbox and its control API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.control = httpx.Client(base_url=base_url, timeout=30)

    def bulk_orders(self, count: int, **options: object) -> list[str]:
        """Create orders at the sandbox's now (a search sees them once the clock moved 2 min)."""
        response = self.control.post("/_sandbox/orders/bulk", json={"count": count, **options})
        response.raise_for_status()
        ids: list[str] = response.json()["order_ids"]
        return ids

    def advance_clock(self, seconds: float) -> None:
        self.control.post("/_sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()

    def fault(self, operation: str, kind: str, count: int = 1) -> None:
        self.control.post(
            "/_sandbox/faults", json={"operation": operation, "kind": kind, "count": count}
        ).raise_for_status()

    def calls(self) -> list[dict[str, object]]:
        response = self.control.get("/_sandbox/calls", params={"limit": 10_000})
        response.raise_for_status()
        calls: list[dict[str, object]] = response.json()["calls"]
        return calls


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        control = Sandbox(handle.base_url)
        yield control
        control.control.close()


def _client(sandbox: Sandbox, redis_url: str, max_wait_s: float | None) -> Iterator[SpApiClient]:
    redis_client = redis.Redis.from_url(redis_url)
    # A token cached by an earlier sandbox would only cost a 403 and a refresh; start clean.
    redis_client.delete(f"amazon-channel:lwa:{CREDENTIALS.cache_id()}:token")
    settings = load_settings(
        amazon_region=Region.SANDBOX,
        spapi_endpoint=sandbox.base_url,
        lwa_token_url=f"{sandbox.base_url}/auth/o2/token",
        sandbox_rate_factor=RATE_FACTOR,
    )
    # Our bucket's name only: a fresh one per test, as the sandbox's buckets are fresh too.
    seller_key = f"A1SANDBOXDEMO:{uuid.uuid4().hex[:8]}"
    client = build_client(settings, seller_key, CREDENTIALS, redis_client, max_wait_s=max_wait_s)
    client.backoff_base_s = 0.05  # the faults are injected, not real overload: keep it quick
    yield client
    client.close()
    redis_client.close()


@pytest.fixture
def client(sandbox: Sandbox, redis_url: str) -> Iterator[SpApiClient]:
    yield from _client(sandbox, redis_url, max_wait_s=None)


@pytest.fixture
def worker_client(sandbox: Sandbox, redis_url: str) -> Iterator[SpApiClient]:
    """As a worker slot builds it: a short wait at most, transient errors handed back."""
    yield from _client(sandbox, redis_url, max_wait_s=2.0)


def _statuses(calls: list[dict[str, object]], operation: str) -> Counter[object]:
    return Counter(c["status"] for c in calls if c["operation"] == operation)


def _long_ago() -> datetime:
    return datetime.now(UTC) - timedelta(days=30)


def test_a_search_through_faults_returns_every_order_exactly_once(
    sandbox: Sandbox, client: SpApiClient
) -> None:
    created = set(sandbox.bulk_orders(230))
    sandbox.advance_clock(180)  # past Amazon's "two minutes before now"
    # Each page meets failures first: the first two, then one each.
    faults = [("429", "500"), ("drop",), ("503",), ("429",), ("lose_response",)]

    ids: list[str] = []
    unparsed = 0
    token: str | None = None
    for page_number in range(100):
        for kind in faults[page_number] if page_number < len(faults) else ():
            sandbox.fault("orders2026.searchOrders", kind)
        page = client.search_orders(
            created_after=_long_ago(),
            included_data=("PROCEEDS", "FULFILLMENT"),
            max_results=50,
            pagination_token=token,
        )
        ids.extend(order.order_id for order in page.orders)
        unparsed += len(page.unparsed_orders)
        token = page.next_token
        if token is None:
            break

    assert unparsed == 0
    assert len(ids) == len(set(ids)) == len(created)
    assert set(ids) == created
    statuses = _statuses(sandbox.calls(), "orders2026.searchOrders")
    assert statuses[429] == 2 and statuses[500] == 1 and statuses[503] == 1
    assert statuses[0] == 1  # the dropped connection
    assert statuses[200] == 5 + 1  # five pages, one of them answered into a lost connection


def test_get_order_through_faults(sandbox: Sandbox, client: SpApiClient) -> None:
    order_id = sandbox.bulk_orders(1)[0]
    for kind in ("429", "500", "503", "drop", "lose_response"):
        sandbox.fault("orders2026.getOrder", kind)

    order = client.get_order(order_id, included_data=("PROCEEDS", "FULFILLMENT", "PACKAGES"))

    assert order.order_id == order_id and order.order_items
    statuses = _statuses(sandbox.calls(), "orders2026.getOrder")
    assert statuses == Counter({429: 1, 500: 1, 503: 1, 0: 1, 200: 2})


def test_v0_orders_and_items_through_faults(sandbox: Sandbox, client: SpApiClient) -> None:
    created = set(sandbox.bulk_orders(30, marketplace_id=MARKETPLACE))
    sandbox.advance_clock(180)
    sandbox.fault("ordersV0.getOrders", "503")
    sandbox.fault("ordersV0.getOrderItems", "drop")

    ids: list[str] = []
    token: str | None = None
    while True:
        payload = client.get_orders_v0(
            marketplace_ids=[MARKETPLACE],
            created_after=_long_ago(),
            max_results=20,
            next_token=token,
        )
        ids.extend(o.amazon_order_id for o in payload.orders)
        token = payload.next_token
        if token is None:
            break
    assert sorted(ids) == sorted(created)
    items = client.get_order_items_v0(ids[0])
    assert items.amazon_order_id == ids[0] and items.order_items


def test_no_429_reaches_amazon_when_our_bucket_paces_the_calls(
    sandbox: Sandbox, client: SpApiClient
) -> None:
    order_id = sandbox.bulk_orders(1)[0]
    for _ in range(45):  # beyond the burst: the rest is paced by our bucket
        client.get_order(order_id)
    statuses = _statuses(sandbox.calls(), "orders2026.getOrder")
    assert statuses == Counter({200: 45})


def test_an_invalid_request_is_not_retried(sandbox: Sandbox, client: SpApiClient) -> None:
    with pytest.raises(InvalidInput) as caught:
        client.get_order("not-an-order-id")
    assert caught.value.request_id and caught.value.code
    with pytest.raises(AmazonNotFound):
        client.get_order("111-1111111-1111111")
    assert sum(_statuses(sandbox.calls(), "orders2026.getOrder").values()) == 2


@pytest.mark.skipif(
    "feeds.createFeed" not in SERVED_OPERATIONS, reason="the sandbox does not serve feeds yet"
)
def test_a_lost_createfeed_response_is_not_resent(sandbox: Sandbox, client: SpApiClient) -> None:
    document_id, url = client.create_feed_document("text/xml; charset=UTF-8")
    client.upload_feed_document(url, b"<AmazonEnvelope/>", "text/xml; charset=UTF-8")
    sandbox.fault("feeds.createFeed", "lose_response")

    with pytest.raises(AmazonUnreachable) as caught:
        client.create_feed("POST_ORDER_ACKNOWLEDGEMENT_DATA", [MARKETPLACE], document_id)

    assert caught.value.request_sent and caught.value.maybe_applied
    assert _statuses(sandbox.calls(), "feeds.createFeed") == Counter({202: 1})


@pytest.mark.skipif(
    "ordersV0.confirmShipment" not in SERVED_OPERATIONS,
    reason="the sandbox does not serve confirmShipment yet",
)
def test_a_lost_confirm_shipment_response_is_resent_as_an_edit(
    sandbox: Sandbox, client: SpApiClient
) -> None:
    (order_id,) = sandbox.bulk_orders(
        1, fulfilled_by="MERCHANT", status="UNSHIPPED", marketplace_id=MARKETPLACE
    )
    order = client.get_order(order_id)
    package = {
        "packageReferenceId": "1",
        "carrierCode": "UPS",
        "trackingNumber": "1Z999AA10123456784",
        "shipDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orderItems": [
            {"orderItemId": item.order_item_id, "quantity": item.quantity_ordered}
            for item in order.order_items
        ],
    }
    sandbox.fault("ordersV0.confirmShipment", "lose_response")

    client.confirm_shipment(order_id, MARKETPLACE, package)

    # Applied, answer lost, sent again: the same package edited, not a second shipment.
    assert _statuses(sandbox.calls(), "ordersV0.confirmShipment") == Counter({204: 2})
    shipped = client.get_order(order_id, included_data=("PACKAGES",))
    assert [p.package_reference_id for p in shipped.packages] == ["1"]


def test_a_worker_client_hands_amazons_failures_back_instead_of_retrying(
    sandbox: Sandbox, worker_client: SpApiClient
) -> None:
    order_id = sandbox.bulk_orders(1)[0]
    sandbox.fault("orders2026.getOrder", "429")
    with pytest.raises(Throttled) as caught:
        worker_client.get_order(order_id)
    # Our bucket, emptied by the 429, says when it has a token again: the task's countdown.
    assert caught.value.retry_after_s is not None and caught.value.retry_after_s > 0
    assert caught.value.request_id
    sandbox.fault("orders2026.getOrder", "503")
    with pytest.raises(AmazonServerError):
        worker_client.get_order(order_id)
    assert worker_client.get_order(order_id).order_id == order_id  # a short wait is fine
    statuses = _statuses(sandbox.calls(), "orders2026.getOrder")
    assert statuses == Counter({429: 1, 503: 1, 200: 1})
