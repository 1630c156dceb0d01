"""The brokers a matrix row runs on: Redis, and RabbitMQ (a node of the run's own) where
Debian's ``rabbitmq-server`` is installed (``.ci/run`` installs it, so in CI none skips)."""

from __future__ import annotations

import pytest

from tests.faults.harness import rabbit
from tests.faults.harness.stack import Stack

ON_RABBITMQ = pytest.mark.skipif(not rabbit.available(), reason="rabbitmq-server is not installed")
BROKERS = [
    pytest.param("redis", id="redis"),
    pytest.param("rabbitmq", id="rabbitmq", marks=ON_RABBITMQ),
]


def on(stack: Stack) -> str:
    """A scenario name's broker suffix: nothing on Redis (the matrix's first rows)."""
    return " on RabbitMQ" if stack.rabbit is not None else ""
