"""``/metrics`` read from a real store with known rows: each gauge, counter and histogram says
what the rows say."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from infra.db.tables import Fulfilment, Order, OutboxEvent, Refund, SyncCursor, WebhookDelivery
from tests.integration.workers.fulfilments import add_order
from workers import bootstrap
from workers.web import create_app

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> tuple[Samples, set[str]]:
    """The samples by (name, labels), and the families' names (those without samples too)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    samples: Samples = {}
    families: set[str] = set()
    for family in text_string_to_metric_families(response.text):
        families.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, families


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture
def client(container: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def _fulfilment(order: Any, n: int, **fields: Any) -> Fulfilment:
    return Fulfilment(
        account_id=order.account_id,
        order_id=order.id,
        amazon_order_id=order.amazon_order_id,
        platform_fulfilment_id=f"F-{n}",
        fingerprint=f"{n:064d}",
        shipped_at=datetime.now(UTC),
        carrier_code="UPS",
        tracking_number=f"1Z{n}",
        **fields,
    )


def _refund(order: Any, n: int, **fields: Any) -> Refund:
    return Refund(
        account_id=order.account_id,
        order_id=order.id,
        amazon_order_id=order.amazon_order_id,
        marketplace_id=order.marketplace_id,
        platform_id=f"R-{n}",
        reason="CustomerReturn",
        currency="USD",
        **fields,
    )


def test_the_store_metrics_count_the_rows_by_state_and_time_them(
    container: bootstrap.Container, account_id: int, client: TestClient
) -> None:
    now = datetime.now(UTC)
    add_order(container, account_id, 1)
    add_order(container, account_id, 2, ship_by_latest=now - timedelta(hours=3))  # late
    sessions: sessionmaker[Session] = container.sessions
    with sessions.begin() as session:
        order = session.execute(select(Order)).scalars().first()
        assert order is not None
        accepted = now - timedelta(hours=1)
        session.add_all(
            [
                _fulfilment(
                    order, 1, state="confirmed", accepted_at=accepted,
                    confirmed_at=accepted + timedelta(seconds=10),
                ),
                _fulfilment(
                    order, 2, state="confirmed", accepted_at=accepted,
                    confirmed_at=accepted + timedelta(seconds=100),
                ),
                _fulfilment(
                    order, 4, state="confirmed", accepted_at=accepted,
                    confirmed_at=accepted + timedelta(seconds=15),  # on a bound: in its bucket
                ),
                _fulfilment(order, 3, state="failed", failure_code="InvalidInput"),
                _refund(
                    order, 1, kind="refund", state="confirmed", created_at=accepted,
                    confirmed_at=accepted + timedelta(seconds=600),
                ),
                _refund(order, 2, kind="cancellation", state="in_feed"),
            ]
        )  # fmt: skip
        session.execute(
            update(SyncCursor)
            .where(SyncCursor.account_id == account_id, SyncCursor.scope == "orders")
            .values(watermark=now - timedelta(minutes=20), last_success_at=now)
        )
        event = OutboxEvent(
            event_id=uuid.uuid4(),
            topic="orders/updated",
            aggregate_key="order:1",
            payload={},
            created_at=now - timedelta(minutes=10),
            dispatched_at=now,
        )
        session.add(event)
        session.flush()
        session.add(
            WebhookDelivery(event_id=event.id, aggregate_key="order:1", subscriber_url="http://x")
        )

    samples, families = scrape(client)

    assert value(samples, "amazon_channel_fulfilments", state="confirmed") == 3
    assert value(samples, "amazon_channel_fulfilments", state="failed") == 1
    assert value(samples, "amazon_channel_failures", kind="fulfilment", code="InvalidInput") == 1
    assert value(samples, "amazon_channel_refunds", kind="refund", state="confirmed") == 1
    assert value(samples, "amazon_channel_refunds", kind="cancellation", state="in_feed") == 1
    assert value(samples, "amazon_channel_orders_ingested_total", account="acme") == 2
    assert value(samples, "amazon_channel_orders_late", account="acme") == 1
    # 10 s, 15 s and 100 s: none within 5 s, two within 15 s, all three within 300 s.
    histogram = "amazon_channel_fulfilment_confirm_seconds"
    assert value(samples, f"{histogram}_bucket", le="5.0") == 0
    assert value(samples, f"{histogram}_bucket", le="15.0") == 2
    assert value(samples, f"{histogram}_bucket", le="60.0") == 2
    assert value(samples, f"{histogram}_bucket", le="300.0") == 3
    assert value(samples, f"{histogram}_bucket", le="+Inf") == 3
    assert value(samples, f"{histogram}_count") == 3
    assert value(samples, f"{histogram}_sum") == pytest.approx(125)
    refunds = "amazon_channel_refund_confirm_seconds"
    assert value(samples, f"{refunds}_bucket", kind="refund", le="300.0") == 0
    assert value(samples, f"{refunds}_bucket", kind="refund", le="900.0") == 1
    lag = value(samples, "amazon_channel_sync_lag_seconds", account="acme")
    assert lag is not None and 20 * 60 <= lag < 60 * 60
    last = value(samples, "amazon_channel_sync_last_success_timestamp_seconds", account="acme")
    assert last == pytest.approx(now.timestamp(), abs=1)
    assert value(samples, "amazon_channel_webhook_deliveries_pending") == 1
    assert value(samples, "amazon_channel_webhook_deliveries", state="pending") == 1
    age = value(samples, "amazon_channel_outbox_oldest_undelivered_age_seconds")
    assert age is not None and age >= 10 * 60
    # Read from the broker and Redis: every queue, and the account's searchOrders budget.
    assert value(samples, "amazon_channel_queue_depth", queue="fulfil") is not None
    tokens = value(
        samples,
        "amazon_channel_rate_budget_tokens",
        account="acme",
        operation="orders2026.searchOrders",
    )
    assert tokens is not None and tokens > 0
    # The dead letters' table may not exist yet: the metric is named all the same.
    assert "amazon_channel_dead_letters" in families
    assert "amazon_channel_spapi_calls" in families  # no worker wrote any: named, no samples


def test_an_empty_store_reports_no_outbox_age_and_no_late_orders(
    container: bootstrap.Container, client: TestClient
) -> None:
    samples, _ = scrape(client)
    assert value(samples, "amazon_channel_outbox_oldest_undelivered_age_seconds") == 0
    assert not [key for key in samples if key[0] == "amazon_channel_orders_late"]
