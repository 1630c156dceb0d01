"""The feeds gateway against the sandbox over real HTTP: refunds and cancellations rendered,
uploaded, submitted, followed to DONE and their processing reports read per message, gzipped or
not; and a createFeed whose answer is lost is "maybe created", then found in what Amazon lists.
The Finances gateway too: a refund made "in Seller Central" comes back by order and by date as
the domain's ``AmazonRefund``, with positive amounts per component and Amazon's adjustment item
id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from domain.feeds import (
    AcknowledgementMessage,
    AdjustedItem,
    AdjustmentMessage,
    CancelledItem,
    FeedStatus,
    FeedType,
    OutcomeUnknown,
    ProcessingReport,
)
from domain.refunds import Component
from domain.shared import Money
from infra.amazon.client import SpApiClient, build_client
from infra.amazon.gateways import SpApiFeeds, SpApiFinances
from infra.amazon.lwa import LwaCredentials
from infra.amazon.sandbox.server import running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.settings import Region, load_settings

pytestmark = pytest.mark.integration

ACCOUNT = 1
MARKETPLACE = "ATVPDKIKX0DER"
CREDENTIALS = LwaCredentials(
    client_id=DEMO_SELLER.client_id,
    client_secret=DEMO_SELLER.client_secret,
    refresh_token=DEMO_SELLER.refresh_token,
)


class Sandbox:
    """The running sandbox's control API: orders seeded and looked at, faults, feed settings."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.control = httpx.Client(base_url=f"{base_url}/_sandbox", timeout=30)

    def order(self, status: str, quantity: int = 2) -> tuple[str, str]:
        response = self.control.post(
            "/orders",
            json={
                "status": status,
                "marketplace_id": MARKETPLACE,
                "items": [{"sku": "MUG-RED", "quantity": quantity, "unit_price": "10.00"}],
            },
        )
        assert response.status_code == 201, response.text
        order_id = str(response.json()["order_id"])
        return order_id, str(self.view(order_id)["items"][0]["order_item_id"])

    def view(self, order_id: str) -> dict[str, Any]:
        response = self.control.get(f"/orders/{order_id}")
        response.raise_for_status()
        view: dict[str, Any] = response.json()
        return view

    def fault(self, operation: str, kind: str) -> None:
        self.control.post(
            "/faults", json={"operation": operation, "kind": kind, "count": 1}
        ).raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        self.control.post("/clock/advance", json={"seconds": seconds}).raise_for_status()

    def gzip_results(self, on: bool) -> None:
        self.control.post("/feed-settings", json={"gzip_results": on}).raise_for_status()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox(rate_factor=0) as handle:
        control = Sandbox(handle.base_url)
        yield control
        control.control.close()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[SpApiClient]:
    """As a worker builds it (a short wait at most); the sandbox's limits are lifted."""
    settings = load_settings(
        amazon_region=Region.SANDBOX,
        spapi_endpoint=sandbox.base_url,
        lwa_token_url=f"{sandbox.base_url}/auth/o2/token",
        sandbox_rate_factor=0,
    )
    spapi = build_client(settings, f"{DEMO_SELLER.seller_id}:SANDBOX", CREDENTIALS, max_wait_s=2.0)
    yield spapi
    spapi.close()


@pytest.fixture
def feeds(client: SpApiClient) -> SpApiFeeds:
    return SpApiFeeds({ACCOUNT: client}.__getitem__, {ACCOUNT: DEMO_SELLER.seller_id}.__getitem__)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def _run(
    feeds: SpApiFeeds,
    feed_type: FeedType,
    messages: list[AdjustmentMessage] | list[AcknowledgementMessage],
) -> tuple[str, ProcessingReport]:
    """Render, upload, create, follow to the end (each getFeed moves a sandbox feed on), read
    the report."""
    document = feeds.render(ACCOUNT, feed_type, messages)
    document_id = feeds.upload(ACCOUNT, document)
    feed_id = feeds.create(ACCOUNT, feed_type, MARKETPLACE, document_id)
    seen: list[FeedStatus] = []
    while not (seen and seen[-1].finished):
        assert len(seen) < 10, seen
        seen.append(feeds.status(ACCOUNT, feed_id))
    assert [s.processing_status for s in seen] == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    result_document_id = seen[-1].result_document_id
    assert result_document_id is not None
    content, report = feeds.report(ACCOUNT, result_document_id)
    assert content.startswith(b"<?xml") and feed_id.encode() in content
    return feed_id, report


def test_refunds_go_through_and_an_over_refund_comes_back_as_its_messages_error(
    sandbox: Sandbox, feeds: SpApiFeeds
) -> None:
    shipped, shipped_item = sandbox.order("SHIPPED")
    unshipped, unshipped_item = sandbox.order("UNSHIPPED", quantity=3)
    refund = AdjustedItem(
        shipped_item,
        "101",
        "CustomerReturn",
        (("Principal", usd("10.00")), ("RestockingFee", usd("1.00"))),
    )
    too_much = AdjustedItem(shipped_item, "102", "CustomerReturn", (("Principal", usd("100")),))
    partial_cancel = AdjustedItem(
        unshipped_item, "103", "NoInventory", (("Principal", usd("10.00")),), quantity_cancelled=1
    )
    messages = [
        AdjustmentMessage(11, shipped, (refund,)),
        AdjustmentMessage(12, shipped, (too_much,)),
        AdjustmentMessage(13, unshipped, (partial_cancel,)),
    ]
    sandbox.gzip_results(True)  # the report comes back gzipped (compressionAlgorithm GZIP)

    feed_id, report = _run(feeds, FeedType.ADJUSTMENT, messages)

    assert (report.processed, report.successful, report.with_error) == (3, 2, 1)
    (error,) = report.results
    assert error.message_id == 12 and error.is_error
    assert error.amazon_order_id == shipped
    assert "exceeds" in error.description and error.message_code
    (recorded,) = sandbox.view(shipped)["items"][0]["adjustments"]
    assert recorded["feed_id"] == feed_id and recorded["message_id"] == 11
    assert recorded["merchant_adjustment_item_id"] == "101"
    assert recorded["components"] == [
        {"type": "Principal", "amount": "10.00"},
        {"type": "RestockingFee", "amount": "-1.00"},
    ]
    cancelled = sandbox.view(unshipped)["items"][0]
    assert cancelled["quantity_cancelled"] == 1
    assert cancelled["adjustments"][0]["merchant_adjustment_item_id"] == "103"


def test_cancellations_of_whole_orders_and_of_items(sandbox: Sandbox, feeds: SpApiFeeds) -> None:
    whole, _ = sandbox.order("UNSHIPPED")
    partly, item = sandbox.order("UNSHIPPED")
    shipped, _ = sandbox.order("SHIPPED")
    messages = [
        AcknowledgementMessage(21, whole, "BuyerCanceled"),
        AcknowledgementMessage(22, partly, "NoInventory", (CancelledItem(item, "NoInventory"),)),
        AcknowledgementMessage(23, shipped, "BuyerCanceled"),  # shipped: cannot be cancelled
    ]

    _, report = _run(feeds, FeedType.ACKNOWLEDGEMENT, messages)

    assert (report.processed, report.successful, report.with_error) == (3, 2, 1)
    (error,) = report.results
    assert error.message_id == 23 and error.amazon_order_id == shipped and error.is_error
    assert sandbox.view(whole)["status"] == "CANCELLED"
    cancelled = sandbox.view(partly)["items"][0]
    assert cancelled["quantity_cancelled"] == 2
    assert cancelled["seller_cancel_reason"] == "NoInventory"


# Amazon's clock with ours, and six minutes ahead: then its feed is stamped 12:06 for a
# createFeed sent at our 12:00; read as stamped it would lie outside the window, and its lines
# would be sent again. The listing moves it onto our clock by its answer's Date.
@pytest.mark.parametrize("amazon_ahead_s", [0, 360])
def test_a_lost_createfeed_answer_is_maybe_created_and_the_feed_is_found_in_the_listing(
    sandbox: Sandbox, feeds: SpApiFeeds, amazon_ahead_s: int
) -> None:
    sandbox.advance_clock(amazon_ahead_s)
    order_id, _ = sandbox.order("UNSHIPPED")
    document = feeds.render(
        ACCOUNT, FeedType.ACKNOWLEDGEMENT, [AcknowledgementMessage(1, order_id, "NoInventory")]
    )
    document_id = feeds.upload(ACCOUNT, document)
    sandbox.fault("feeds.createFeed", "lose_response")
    started = datetime.now(UTC) - timedelta(seconds=2)

    with pytest.raises(OutcomeUnknown):
        feeds.create(ACCOUNT, FeedType.ACKNOWLEDGEMENT, MARKETPLACE, document_id)

    ended = datetime.now(UTC) + timedelta(seconds=2)
    listed = feeds.listed(ACCOUNT, FeedType.ACKNOWLEDGEMENT, MARKETPLACE, started, ended)
    (found,) = listed  # the feed was created, once: nothing was resent
    assert found.feed_type == FeedType.ACKNOWLEDGEMENT.value
    assert started <= found.created_at <= ended  # on our clock
    assert feeds.listed(ACCOUNT, FeedType.ADJUSTMENT, MARKETPLACE, started, ended) == ()
    assert feeds.status(ACCOUNT, found.amazon_feed_id).processing_status == "IN_QUEUE"


def test_every_answer_is_dated_by_the_sandboxs_own_clock(sandbox: Sandbox) -> None:
    sandbox.advance_clock(3600)
    answer = httpx.get(f"{sandbox.base_url}/feeds/2021-06-30/feeds?feedTypes=X", timeout=10)
    dated = parsedate_to_datetime(answer.headers["date"])
    assert len(answer.headers.get_list("date")) == 1
    assert abs((dated - datetime.now(UTC)) - timedelta(hours=1)) < timedelta(seconds=5)


@pytest.fixture
def finances(client: SpApiClient) -> SpApiFinances:
    return SpApiFinances({ACCOUNT: client}.__getitem__)


def test_a_seller_central_refund_reads_back_as_an_amazon_refund(
    sandbox: Sandbox, finances: SpApiFinances
) -> None:
    order_id, item_id = sandbox.order("SHIPPED")
    response = sandbox.control.post(
        f"/orders/{order_id}/seller-central-refunds",
        json={
            "reason": "CustomerReturn",
            "items": [
                {"order_item_id": item_id, "components": [{"type": "Principal", "amount": "7.50"}]}
            ],
        },
    )
    assert response.status_code == 201, response.text
    # Finances lists what was posted at least two minutes ago.
    sandbox.control.post("/clock/advance", json={"seconds": 180}).raise_for_status()

    (refund,) = finances.refunds_of_order(ACCOUNT, order_id)
    assert refund.amazon_order_id == order_id
    (item,) = refund.items
    assert item.order_item_id == item_id and item.adjustment_item_id
    assert dict(item.amounts)[Component.ITEM_PRICE] == Money(Decimal("7.50"), "USD")

    before = refund.posted_at + timedelta(seconds=30)  # Amazon: at least 2 minutes ago
    posted = finances.refunds_posted(ACCOUNT, refund.posted_at - timedelta(days=1), before)
    assert [found.key for found in posted] == [refund.key]
