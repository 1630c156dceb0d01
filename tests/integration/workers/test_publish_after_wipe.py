"""After Redis lost its data (FLUSHALL, with every connection still up), the project's own
publishes still reach their queue: they go through the default exchange, which needs none of
kombu's binding tables (``workers.config``, the routes). A publish to a named exchange, for
contrast, is dropped until someone declares the queue again: the hazard the routes avoid. And
the broker's epoch marker (``infra.broker.data_since``) is gone with the data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from kombu.connection import Connection
from kombu.entity import Exchange
from kombu.messaging import Producer

from infra.broker import EPOCH_KEY, QueueProbe, data_since
from infra.embedded import EmbeddedRedis

pytestmark = pytest.mark.integration


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "own")
    server.start()
    yield server
    server.stop()


def test_the_projects_publishes_reach_their_queue_after_redis_lost_its_data(
    own_redis: EmbeddedRedis,
) -> None:
    client = redis.Redis.from_url(own_redis.url)
    probe = QueueProbe(own_redis.broker_url)
    # The project's configuration in an app of its own: the shared app may hold a producer pool
    # from an earlier test of this process.
    app = Celery("publish-after-wipe", set_as_current=False)
    app.config_from_object("workers.config")
    app.conf.broker_url = own_redis.broker_url
    with app:
        app.send_task("fulfil.confirm", args=[1], priority=3)
        assert probe.depth("fulfil") == 1
        client.flushall()  # the producer's connection stays up: nothing is declared again
        app.send_task("fulfil.confirm", args=[2], priority=3)
        app.send_task("fulfil.confirm", args=[3])
        assert probe.depth("fulfil") == 2, "both publishes after the wipe are on the queue"

        # The same wipe under a publish to a named exchange: kombu finds no binding, drops it.
        with Connection(own_redis.broker_url) as connection:
            producer = Producer(connection.default_channel)
            exchange = Exchange("fulfil", type="direct")
            producer.publish({"n": 4}, exchange=exchange, routing_key="fulfil", declare=[])
            assert probe.depth("fulfil") == 2, "a named exchange without its binding drops it"
    probe.close()
    client.close()


def test_the_broker_epoch_begins_again_when_redis_lost_its_data(
    own_redis: EmbeddedRedis,
) -> None:
    client = redis.Redis.from_url(own_redis.url)
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with Connection(own_redis.broker_url) as connection:
        assert data_since(connection, start) == start, "a new broker begins now"
        later = start + timedelta(hours=1)
        assert data_since(connection, later) == start, "and keeps its beginning"
        client.flushall()
        assert data_since(connection, later) == later, "a wiped one begins again"
        client.set(EPOCH_KEY, "not a time")
        assert data_since(connection, later) == later
    client.close()
