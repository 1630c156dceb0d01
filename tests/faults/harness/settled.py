"""A broker that has held its data for a while, as in production.

A fault stack's broker is new, and for the first ten minutes of a broker's data every
fulfilment sweep republishes whatever is accepted and unfinished at once (``workers.epoch``: the
messages of a broker that lost its data are gone). That hides what the sweeper does on a settled
broker, where a fulfilment nobody claimed waits ``SWEEP_AFTER`` before it is queued again; a
scenario about that path (a lost publish, a task in a long backoff) dates the broker's epoch
back first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from kombu.connection import Connection

from infra.broker import EPOCH_KEY, data_since

if TYPE_CHECKING:
    from tests.faults.harness.stack import Stack


def settle(stack: Stack, age: timedelta = timedelta(hours=1)) -> None:
    """Mark the stack's broker data as ``age`` old (before the workers and beat start). Redis:
    its epoch key set back. RabbitMQ: the node is new, so the first look at it declares the
    marker queue and keeps the time it was given in Redis, as a worker's first look would,
    with the time ``age`` ago."""
    client = stack.redis.client()
    began = datetime.now(UTC) - age
    try:
        if stack.rabbit is None:
            client.set(EPOCH_KEY, began.isoformat())
            return
        with Connection(stack.rabbit.url, connect_timeout=10) as connection:
            assert data_since(connection, began, client) == began, "the node was not new"
    finally:
        client.close()
