"""What waits on a broker queue, without taking it: the supervisor starts a queue's worker only
once the queue holds work (``workers.supervisor``); and since when the broker holds its data
(``data_since``: the sweepers republish at once what a broker that lost its data lost; on
Redis a key, on RabbitMQ a marker queue).

Through kombu, which already speaks every broker we use:

- Redis: a queue is a list (one per priority step, kombu's ``queue\\x06\\x16<step>``); the
  messages are read in place (``LRANGE``), never popped, so the names of the waiting tasks are
  known and beat's housekeeping ticks can be told apart from real work.
- AMQP: a passive ``queue_declare`` gives the queue's message count but no names (a message
  cannot be read without being taken), so every message counts.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from kombu.connection import Connection

log = logging.getLogger(__name__)

# Enough to see past a queue of housekeeping ticks (they expire unread within seconds).
PEEK_LIMIT = 100
# The broker's epoch marker: a key that lives as long as the broker's data (no TTL; under
# ``noeviction``, as the project runs Redis, it is never evicted).
EPOCH_KEY = "amazon-channel:broker:epoch"
# On RabbitMQ: the marker queue, and the Redis key that keeps since when it exists.
EPOCH_QUEUE = "amazon-channel.broker-epoch"
AMQP_EPOCH_KEY = "amazon-channel:broker:amqp-epoch"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def is_amqp(broker_url: str) -> bool:
    """The broker URL names RabbitMQ (kombu's ``amqp://`` or ``pyamqp://``)."""
    return broker_url.startswith(("amqp", "pyamqp"))


def data_since(connection: Any, now: datetime, keeper: Any = None) -> datetime | None:
    """Since when the broker holds its data; set to ``now`` when its marker is missing (a new
    broker, or one that lost its data: its queued and unacked messages went with the marker).

    - Redis: the time the epoch marker key was set (a FLUSHALL, a restart without persistence,
      a failover to an empty replica remove it).
    - AMQP: the marker is a durable queue (``EPOCH_QUEUE``, quorum like the task queues, never
      holding a message), which lives exactly as long as the node's queue definitions: a restart
      keeps it, a node that lost its disk (or a new cluster) has none. RabbitMQ cannot store a
      time without it being consumed, so the time lives in ``keeper`` (the Redis of rate budgets
      and beat), set when a process finds the queue gone, then the queue declared again. A
      ``keeper`` that lost the time while the queue stayed means the broker kept its data: the
      time is then "long ago". Without a ``keeper``, None (unknown: the sweeps go on as usual).
    """
    if connection.transport.driver_type == "amqp":
        return _amqp_data_since(connection, now, keeper) if keeper is not None else None
    if connection.transport.driver_type != "redis":
        return None
    client = connection.default_channel.client
    client.set(EPOCH_KEY, now.isoformat(), nx=True)
    value = client.get(EPOCH_KEY)
    if value is None:  # wiped between the two calls: it began now
        return now
    since = _parse(value)
    if since is None:  # not ours: the broker's data is unknown
        client.set(EPOCH_KEY, now.isoformat())
        return now
    return since


def _parse(value: bytes | str) -> datetime | None:
    try:
        since = datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value)
    except ValueError:
        return None
    return since if since.tzinfo is not None else None


def _amqp_data_since(connection: Any, now: datetime, keeper: Any) -> datetime:
    import amqp.exceptions

    channel = connection.channel()  # a channel of its own: a 404 closes it
    try:
        channel.queue_declare(queue=EPOCH_QUEUE, passive=True)
    except amqp.exceptions.NotFound:
        # The time first, then the queue: whoever sees the queue again also sees the new time.
        keeper.set(AMQP_EPOCH_KEY, now.isoformat())
        channel = connection.channel()
        channel.queue_declare(
            queue=EPOCH_QUEUE,
            durable=True,
            auto_delete=False,
            arguments={"x-queue-type": "quorum"},
        )
        return now
    finally:
        with contextlib.suppress(Exception):
            channel.close()
    value = keeper.get(AMQP_EPOCH_KEY)
    since = _parse(value) if value is not None else None
    if since is None:  # the keeper lost it; the broker did not
        keeper.set(AMQP_EPOCH_KEY, LONG_AGO.isoformat(), nx=True)
        return LONG_AGO
    return since


def task_name(body: bytes | str) -> str | None:
    """The task a Redis-transport message carries (Celery's protocol 2: ``headers.task``)."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    headers = message.get("headers")
    name = headers.get("task") if isinstance(headers, dict) else None
    return name if isinstance(name, str) else None


def counts_as_work(names: Iterable[str | None], housekeeping: frozenset[str]) -> bool:
    """A waiting message that is not a housekeeping tick (an unreadable one counts)."""
    return any(name not in housekeeping for name in names)


class QueueProbe:
    """Has ``queue`` work waiting? One broker connection, opened on first use and kept."""

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url
        self._connection: Any = None

    def _channel(self) -> Any:
        if self._connection is None:
            self._connection = Connection(self.broker_url, connect_timeout=5)  # type: ignore[no-untyped-call]
        return self._connection.default_channel

    def has_work(self, queue: str, housekeeping: frozenset[str] = frozenset()) -> bool:
        """True when a message other than a ``housekeeping`` one waits on ``queue``. A broker
        that cannot be asked says no (the next probe asks again)."""
        try:
            channel = self._channel()
            if self._connection.transport.driver_type == "redis":
                return counts_as_work(self._peek_redis(channel, queue), housekeeping)
            declared = channel.queue_declare(queue=queue, passive=True)
            return int(declared.message_count) > 0
        except Exception as exc:  # noqa: BLE001 (a probe reports; the supervisor goes on)
            log.debug("cannot look at queue %s: %s", queue, exc)
            self.close()
            return False

    def depth(self, queue: str) -> int | None:
        """How many messages wait on ``queue`` (Redis: every priority step's list; AMQP: the
        queue's message count); None when the broker cannot be asked now (``/metrics``)."""
        try:
            channel = self._channel()
            if self._connection.transport.driver_type == "redis":
                return sum(int(channel.client.llen(key)) for key in self._keys(channel, queue))
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
        except Exception as exc:  # noqa: BLE001 (a scrape reports what it can)
            log.debug("cannot count queue %s: %s", queue, exc)
            self.close()
            return None

    def discard(self, queue: str, housekeeping: frozenset[str]) -> int:
        """Remove the ``housekeeping`` messages waiting on a Redis ``queue`` that no worker
        reads (beat's ticks, due to expire unread); the count removed. On other brokers, 0."""
        removed = 0
        try:
            channel = self._channel()
            if self._connection.transport.driver_type != "redis":
                return 0
            for key in self._keys(channel, queue):
                for body in channel.client.lrange(key, 0, PEEK_LIMIT):
                    if task_name(body) in housekeeping:
                        removed += int(channel.client.lrem(key, 1, body))
        except Exception as exc:  # noqa: BLE001 (a tidy-up; the next probe tries again)
            log.debug("cannot tidy queue %s: %s", queue, exc)
            self.close()
        return removed

    @staticmethod
    def _keys(channel: Any, queue: str) -> list[str]:
        return list(dict.fromkeys(channel._q_for_pri(queue, s) for s in channel.priority_steps))

    @classmethod
    def _peek_redis(cls, channel: Any, queue: str) -> list[str | None]:
        names: list[str | None] = []
        for key in cls._keys(channel, queue):
            names.extend(task_name(body) for body in channel.client.lrange(key, 0, PEEK_LIMIT))
        return names

    def close(self) -> None:
        connection = self._connection
        self._connection = None
        if connection is not None:
            try:
                connection.release()
            except Exception as exc:  # noqa: BLE001 (closing a broken connection)
                log.debug("closing the probe's broker connection: %s", exc)
