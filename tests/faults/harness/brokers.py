"""The brokers a matrix row runs on: Redis, and RabbitMQ (a node of the run's own) where
Debian's ``rabbitmq-server`` is installed (``.ci/run`` installs it, so in CI none skips)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.broker import is_amqp
from tests.faults.harness import rabbit
from tests.faults.harness.sender import TaskSender
from tests.faults.harness.stack import Stack

ON_RABBITMQ = pytest.mark.skipif(not rabbit.available(), reason="rabbitmq-server is not installed")
BROKERS = [
    pytest.param("redis", id="redis"),
    pytest.param("rabbitmq", id="rabbitmq", marks=ON_RABBITMQ),
]


def on(stack: Stack) -> str:
    """A scenario name's broker suffix: nothing on Redis (the matrix's first rows)."""
    return " on RabbitMQ" if stack.rabbit is not None else ""


@contextlib.contextmanager
def chaos_broker(kind: str, session_url: str, root: Path) -> Iterator[str]:
    """The broker a long chaos run's web and workers publish to: the session's (``redis``), or
    a RabbitMQ node of the run's own, started empty under ``root`` and stopped after."""
    if kind == "redis":
        yield session_url
        return
    node = rabbit.RabbitServer(root / "rabbit")
    node.start()
    try:
        yield node.url
    finally:
        node.stop()


@contextlib.contextmanager
def beat_sender(app: Any, env: dict[str, str]) -> Iterator[Any]:
    """What sends beat's triggers in a chaos run (``send_task``): this process's app when the
    run's broker is the session's Redis; on RabbitMQ a child configured for the node (this
    process read its queue layout for Redis, and RabbitMQ refuses its direct exchanges where the
    project declares topic ones)."""
    if not is_amqp(env["BROKER_URL"]):
        yield app
        return
    with TaskSender(env) as child:
        yield child
