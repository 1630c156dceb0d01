"""The operators' side of the web process: ``/healthz`` and the store's counts on ``/metrics``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from domain.orders import OrderStatus
from infra.db.tables import SetAsideOrder
from tests.integration.workers.fulfilments import add_order
from workers import bootstrap
from workers.web import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def client(container: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def test_health_names_each_service(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"postgres": "ok", "redis": "ok"})


def test_health_answers_503_naming_the_service_that_is_down(
    container: bootstrap.Container, client: TestClient
) -> None:
    nobody = "postgresql://channel@127.0.0.1:1/channel"  # nobody listens on port 1
    bootstrap.use(container.settings.model_copy(update={"database_url": nobody}))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["postgres"].startswith("down: ")
    assert response.json()["redis"] == "ok"


def test_metrics_count_orders_by_status_deliveries_pending_and_orders_set_aside(
    container: bootstrap.Container, account_id: int, client: TestClient
) -> None:
    add_order(container, account_id, 1)
    add_order(container, account_id, 2)
    add_order(container, account_id, 3, status=OrderStatus.SHIPPED)
    sessions: sessionmaker[Session] = container.sessions
    with sessions.begin() as session:
        now = datetime.now(UTC)
        session.add(
            SetAsideOrder(
                account_id=account_id,
                amazon_order_id="113-0000009-0000009",
                reason="no items",
                raw={},
                first_seen_at=now,
                last_seen_at=now,
            )
        )
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'amazon_channel_orders{status="UNSHIPPED"} 2.0' in text
    assert 'amazon_channel_orders{status="SHIPPED"} 1.0' in text
    assert 'amazon_channel_orders_set_aside{account="acme"} 1.0' in text
    assert "amazon_channel_webhook_deliveries_pending" in text
