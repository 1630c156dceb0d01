"""The SP-API finances gateway over a scripted Amazon: an order's refunds and a window's, every
page, as the domain's ``AmazonRefund``; what it cannot use logged, never silently dropped; long
windows read in Amazon's 180-day parts; Amazon's transient failures as ``AmazonBusy``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from domain.feeds import AmazonBusy
from domain.refunds import AmazonRefund, AmazonRefundItem, Component
from domain.shared import Money
from infra.amazon.client import SpApiClient
from infra.amazon.errors import InvalidInput
from infra.amazon.gateways import SpApiFinances
from tests.unit.infra.amazon.fake_spapi import (
    FakeAmazon,
    RecordingLimiter,
    amazon_error,
    query,
    scripted_client,
)
from tests.unit.infra.amazon.finances_json import (
    EVENTS,
    ORDER_ID,
    by_order,
    charge,
    events_page,
    refund_event,
    refund_item,
    shipment_event,
)

OTHER = "113-0000002-0000002"


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def gateway(client: SpApiClient) -> SpApiFinances:
    return SpApiFinances({7: client}.__getitem__)


@pytest.fixture
def worker(amazon: FakeAmazon, limiter: RecordingLimiter) -> Iterator[SpApiClient]:
    with scripted_client(amazon, limiter, [], max_wait_s=2.0) as spapi:
        yield spapi


def test_an_orders_refunds_from_every_page(client: SpApiClient, amazon: FakeAmazon) -> None:
    second = refund_event(
        posted="2026-11-05T08:00:00Z",
        items=(
            refund_item(
                adjustment_id="amzn1.adj.2",
                charges=(charge("ShippingCharge", "-4.99"), charge("RestockingFee", "2.00")),
            ),
        ),
    )
    amazon.queue(
        by_order(),
        events_page(shipments=(shipment_event(),), refunds=(refund_event(),), next_token="p2"),
        events_page(refunds=(second,)),
    )

    refunds = gateway(client).refunds_of_order(7, ORDER_ID)

    assert refunds == (
        AmazonRefund(
            amazon_order_id=ORDER_ID,
            posted_at=datetime(2026, 11, 2, 9, 15, tzinfo=UTC),
            marketplace_name="Amazon.com",
            items=(
                AmazonRefundItem(
                    order_item_id="00000000000001",
                    sku="MUG-RED",
                    adjustment_item_id="amzn1.adj.1",
                    amounts=((Component.ITEM_PRICE, usd("20.00")), (Component.TAX, usd("1.60"))),
                ),
            ),
        ),
        AmazonRefund(
            amazon_order_id=ORDER_ID,
            posted_at=datetime(2026, 11, 5, 8, 0, tzinfo=UTC),
            marketplace_name="Amazon.com",
            items=(
                AmazonRefundItem(
                    order_item_id="00000000000001",
                    sku="MUG-RED",
                    adjustment_item_id="amzn1.adj.2",
                    amounts=(
                        (Component.SHIPPING, usd("4.99")),
                        (Component.RESTOCKING_FEE, usd("2.00")),
                    ),
                ),
            ),
        ),
    )
    assert [query(r).get("NextToken") for r in amazon.calls(by_order())] == [None, "p2"]


def test_what_cannot_be_used_is_logged_with_its_reason_and_the_rest_returned(
    client: SpApiClient, amazon: FakeAmazon, caplog: pytest.LogCaptureFixture
) -> None:
    no_posted_date = refund_event(order_id=OTHER)
    del no_posted_date["PostedDate"]
    naive = refund_event(order_id="113-0000003-0000003", posted="2026-11-02T09:15:00")
    unknown = refund_event(
        items=(refund_item(charges=(charge("Principal", "-5"), charge("ExportCharge", "-1.5"))),)
    )
    amazon.queue(by_order(), events_page(refunds=(no_posted_date, naive, unknown)))

    with caplog.at_level(logging.WARNING, logger="infra.amazon.gateways.finances"):
        refunds = gateway(client).refunds_of_order(7, ORDER_ID)

    assert [r.items[0].amounts for r in refunds] == [((Component.ITEM_PRICE, usd("5")),)]
    aside = {
        r.__dict__["amazon_order_id"]: r.__dict__["reason"]
        for r in caplog.records
        if r.getMessage() == "amazon refund event set aside"
    }
    assert aside == {
        OTHER: "RefundEventList[0].PostedDate is missing",
        "113-0000003-0000003": aside["113-0000003-0000003"],
    }
    assert "PostedDate" in aside["113-0000003-0000003"]
    (lost,) = [r for r in caplog.records if r.getMessage().startswith("amazon refund charge")]
    assert lost.__dict__["charge_type"] == "ExportCharge"
    assert (lost.__dict__["amount"], lost.__dict__["currency"]) == ("-1.5", "USD")


def test_a_window_is_read_in_amazons_180_day_parts_and_each_refund_returned_once(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    after = datetime(2026, 1, 1, tzinfo=UTC)
    before = after + timedelta(days=400)
    amazon.queue(
        EVENTS,
        events_page(refunds=(refund_event(),), next_token="p2"),
        events_page(refunds=(refund_event(),)),  # the same event again on the next page
        events_page(refunds=(refund_event(order_id=OTHER),)),
        events_page(),
    )

    refunds = gateway(client).refunds_posted(7, after, before)

    assert [r.amazon_order_id for r in refunds] == [ORDER_ID, OTHER]
    windows = [
        (q["PostedAfter"], q["PostedBefore"], q.get("NextToken"))
        for q in (query(r) for r in amazon.calls(EVENTS))
    ]
    assert windows == [
        ("2026-01-01T00:00:00Z", "2026-06-30T00:00:00Z", None),
        ("2026-01-01T00:00:00Z", "2026-06-30T00:00:00Z", "p2"),
        ("2026-06-30T00:00:00Z", "2026-12-27T00:00:00Z", None),
        ("2026-12-27T00:00:00Z", "2027-02-05T00:00:00Z", None),
    ]


def test_an_empty_or_backward_window_is_refused(client: SpApiClient, amazon: FakeAmazon) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="later than"):
        gateway(client).refunds_posted(7, now, now)
    assert amazon.requests == []


@pytest.mark.parametrize(
    ("failure", "wait"),
    [
        (amazon_error(429, "QuotaExceeded"), timedelta(seconds=2.5)),  # our bucket's estimate
        (amazon_error(503, "ServiceUnavailable"), None),
        (httpx.ReadTimeout("slow"), None),
    ],
)
def test_amazons_transient_failures_are_busy(
    worker: SpApiClient,
    amazon: FakeAmazon,
    failure: httpx.Response | Exception,
    wait: timedelta | None,
) -> None:
    amazon.queue(by_order(), events_page(next_token="p2"), failure)  # the second page fails
    with pytest.raises(AmazonBusy) as caught:
        gateway(worker).refunds_of_order(7, ORDER_ID)
    assert caught.value.retry_after == wait


def test_our_own_budget_running_dry_is_busy_with_its_wait(
    worker: SpApiClient, limiter: RecordingLimiter
) -> None:
    limiter.refuse = True
    with pytest.raises(AmazonBusy) as caught:
        gateway(worker).refunds_posted(
            7, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)
        )
    assert caught.value.retry_after == timedelta(seconds=42)


def test_a_refusal_is_raised_as_it_is(client: SpApiClient, amazon: FakeAmazon) -> None:
    amazon.queue(EVENTS, amazon_error(400, "InvalidInput", "Date is too recent"))
    with pytest.raises(InvalidInput):
        gateway(client).refunds_posted(
            7, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)
        )
