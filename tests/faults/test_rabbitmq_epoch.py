"""The broker's epoch on RabbitMQ (``infra.broker.data_since``) on a node the test owns: a new
node begins now, a restart and a ``kill -9`` keep its beginning (the marker queue is durable),
a node whose data was wiped begins again, and a keeper (Redis) that lost the time while the
node kept its queues says "long ago", so nothing is republished for Redis's loss."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from kombu.connection import Connection

from infra.broker import AMQP_EPOCH_KEY, LONG_AGO, data_since
from infra.embedded import EmbeddedRedis
from tests.faults.harness import rabbit

pytestmark = [
    pytest.mark.integration,
    pytest.mark.faults,
    pytest.mark.skipif(not rabbit.available(), reason="rabbitmq-server is not installed"),
]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[rabbit.RabbitServer]:
    server = rabbit.RabbitServer(tmp_path / "rabbit")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def keeper(tmp_path: Path) -> Iterator[redis.Redis]:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    client = redis.Redis.from_url(server.url)
    yield client
    client.close()
    server.stop()


def since(node: rabbit.RabbitServer, now: datetime, keeper: redis.Redis) -> datetime | None:
    with Connection(node.url, connect_timeout=5) as connection:
        return data_since(connection, now, keeper)


def test_the_epoch_of_a_rabbitmq_node_lives_as_long_as_its_data(
    node: rabbit.RabbitServer, keeper: redis.Redis
) -> None:
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    later = start + timedelta(hours=1)
    assert since(node, start, keeper) == start, "a new node begins now"
    assert since(node, later, keeper) == start, "and keeps its beginning"
    node.shutdown()
    node.start()
    assert since(node, later, keeper) == start, "a restart keeps it"
    node.kill()
    node.start()
    assert since(node, later, keeper) == start, "so does a crash"
    node.wipe()
    node.start()
    assert since(node, later, keeper) == later, "a wiped node begins again"
    keeper.delete(AMQP_EPOCH_KEY)
    assert since(node, later + timedelta(hours=1), keeper) == LONG_AGO, "the keeper lost it"
    with Connection(node.url) as connection:
        assert data_since(connection, later) is None, "no keeper: unknown"
