"""Shared fixtures: real PostgreSQL and Redis for the whole session.

With ``DATABASE_URL`` / ``REDIS_URL`` / ``BROKER_URL`` in the environment the tests use those
servers (CI's second pass uses the machine's); without them they start the embedded servers, as
``make run`` does. Each session works in a database of its own, created here and dropped after.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from kombu.connection import Connection
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from infra.broker import is_amqp
from infra.db import migrate
from infra.db.engine import make_engine, make_session_factory
from infra.db.tables import Base
from infra.embedded import EmbeddedServices, ServiceUrls
from infra.secrets import new_key
from infra.settings import Settings, load_settings
from workers.queues import QUEUES


def _own_redis_database(url: str) -> str:
    """Under pytest-xdist, a Redis URL the environment gave, on a database number of this test
        process's own (``gw0`` -> 1, ``gw1`` -> 2, ...): processes sharing the machine's Redis would
        take each other's queued tasks, rate budgets and beat schedule. Any other URL (an empty one:
    the embedded server) as it is."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    parts = urlsplit(url)
    if not worker.startswith("gw") or parts.scheme != "redis" or parts.path not in ("", "/", "/0"):
        return url
    return urlunsplit(parts._replace(path=f"/{int(worker[2:]) + 1}"))


@pytest.fixture(scope="session")
def service_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUrls]:
    settings = load_settings()
    services = EmbeddedServices(Path(tmp_path_factory.mktemp("embedded")))
    urls = services.start(
        settings.database_url,
        _own_redis_database(settings.redis_url),
        _own_redis_database(settings.broker_url),
    )
    # Child processes (workers) and this process's Celery producer use the same servers.
    os.environ["REDIS_URL"] = urls.redis_url
    os.environ["BROKER_URL"] = urls.broker_url
    # One key for the session's processes (each test's data folder would make its own, and a
    # worker started with another DATA_DIR could not open what the test stored).
    os.environ.setdefault("SECRETS_KEY", new_key())
    try:
        yield urls
    finally:
        services.stop()


@pytest.fixture(scope="session")
def database_url(service_urls: ServiceUrls) -> Iterator[str]:
    """A fresh, migrated database for this test session."""
    with migrate.scratch_database(service_urls.database_url, "ac_test") as url:
        os.environ["DATABASE_URL"] = url
        yield url


@pytest.fixture(scope="session")
def redis_url(service_urls: ServiceUrls) -> str:
    return service_urls.redis_url


@pytest.fixture(scope="session")
def broker_url(service_urls: ServiceUrls) -> str:
    if is_amqp(service_urls.broker_url):
        _declared_afresh(service_urls.broker_url)
    return service_urls.broker_url


def _declared_afresh(url: str) -> None:
    """The project's queues and exchanges deleted from a RabbitMQ the environment gave (the
    machine's, whose vhost outlives every run): RabbitMQ refuses to redeclare an entity with
    other arguments or another type, so what an older checkout declared (a direct exchange
    where this one declares a topic one) would fail every test of this session. The embedded
    brokers begin empty; this one begins empty too, and each queue is declared again by its
    first use. A missing queue or exchange deletes without an error on RabbitMQ."""
    with Connection(url, connect_timeout=10) as connection:
        channel = connection.default_channel
        for name in QUEUES:
            channel.queue_delete(name)
            channel.exchange_delete(name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, application_name="tests")
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine: Engine) -> Engine:
    """Empty every table before a test that needs a blank store."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture
def session_factory(clean_db: Engine) -> sessionmaker[Session]:
    return make_session_factory(clean_db)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def settings(database_url: str, redis_url: str, broker_url: str, tmp_path: Path) -> Settings:
    """Settings for code under test, pointing at the session's servers."""
    return load_settings(
        database_url=database_url,
        redis_url=redis_url,
        broker_url=broker_url,
        data_dir=tmp_path / "data",
    )


@pytest.fixture
def child_env(database_url: str, redis_url: str, broker_url: str) -> dict[str, str]:
    """The environment for worker subprocesses: the session's servers, nothing embedded."""
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, BROKER_URL=broker_url)
    return env
