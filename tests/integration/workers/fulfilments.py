"""What the tests of the fulfilment doors share (HTTP, queue, CLI): the container on the
session's servers, a seeded account and order, request bodies, a recording sender and the
project's Celery app on the session's broker. Each test folder's conftest hands the fixtures on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from domain.orders import AmazonOrder
from infra.broker import is_amqp
from infra.settings import Settings
from tests.integration.infra.db.seed import amazon_order, seed_account, seed_order
from tests.integration.workers.scenarios import use_broker
from workers import bootstrap

TOKEN = "platform-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class RecordingSender:
    """Celery's ``send_task`` as a list: what the broker would have received."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.sent.append((name, kwargs))
        return type("Result", (), {"id": f"task-{len(self.sent)}"})()


@pytest.fixture
def container(settings: Settings, clean_db: Engine) -> Iterator[bootstrap.Container]:
    container = bootstrap.use(settings.model_copy(update={"api_tokens": f"old-token, {TOKEN}"}))
    yield container
    bootstrap.reset_and_close()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def account_id(container: bootstrap.Container) -> int:
    return seed_account(container.sessions)


def add_order(
    container: bootstrap.Container, account_id: int, n: int, **changes: Any
) -> AmazonOrder:
    order = amazon_order(n, **changes)
    seed_order(container.engine, container.sessions, account_id, order)
    return order


@pytest.fixture
def order(container: bootstrap.Container, account_id: int) -> AmazonOrder:
    return add_order(container, account_id, 1)


def body(order: AmazonOrder, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": order.amazon_order_id,
        "platform_fulfilment_id": "F-1",
        "shipped_at": (order.purchased_at + timedelta(hours=20)).isoformat(),
        "carrier_code": "UPS",
        "shipping_method": "Ground",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"sku": "MUG-RED", "quantity": 2}],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    """The project's Celery app on this session's broker (its pool rebuilt for it)."""
    from workers.app import app

    use_broker(app, broker_url)
    # Every queue emptied of what an earlier test left (a refund task queued with a countdown
    # lands on the shared broker at once; on RabbitMQ it waits in the delay queues and would
    # land in a later test), before and after.
    app.control.purge()
    drain_delayed(app)
    yield app
    app.control.purge()
    drain_delayed(app)
    app.close()


def drain_delayed(app: Any) -> list[dict[str, Any]]:
    """RabbitMQ: the headers of every task waiting in the native delayed delivery queues
    (``celery_delayed_0`` .. ``_27``: where a countdown task waits when the queues are quorum
    queues), taken off them. On Redis none: a countdown task waits on its own queue."""
    from kombu.transport.native_delayed_delivery import level_name

    if not is_amqp(str(app.conf.broker_url)):
        return []
    found: list[dict[str, Any]] = []
    with app.connection_for_write() as conn:
        for level in range(28):
            channel = conn.channel()
            try:
                while (message := channel.basic_get(level_name(level), no_ack=True)) is not None:
                    found.append(dict(message.headers))
            except conn.channel_errors:  # no such queue yet: no worker declared them
                pass
            finally:
                if channel.is_open:
                    channel.close()
    return found


def drain(app: Any) -> list[tuple[dict[str, Any], Any]]:
    """Everything waiting on the fulfil queue: (headers, body), in the broker's order."""
    found = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(app.amqp.queues["fulfil"])  # declared as the workers do
        try:
            while True:
                try:
                    # What was published is on the broker already: a short wait sees it empty.
                    message = queue.get(timeout=0.1)
                except queue.Empty:
                    break
                found.append((dict(message.headers), message.payload))
                message.ack()
        finally:
            queue.close()
    return found


@pytest.fixture
def cli_env(database_url: str, redis_url: str, broker_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BROKER_URL": broker_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SHIP_BY_WARNING_HOURS": "24",
    }


def cli(env: dict[str, str], *args: str) -> Any:
    from workers.cli import main

    return CliRunner().invoke(main, list(args), env=env)
