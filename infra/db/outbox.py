"""The outbox: stores append their events here, in the transaction of the change they report.

The store knows events as values; what the platform receives (topic and JSON) is the encoder's
business, handed in by whoever builds the store (``infra.platform.payloads.encode``). Deliveries
fan out from here later (``infra.db.deliveries``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import psycopg
from sqlalchemy import Connection

from domain.shared.events import Event
from infra.db.sql.outbox import INSERT_EVENTS


class EventEncoder(Protocol):
    """An event's topic and its payload as JSON text."""

    def __call__(self, event: Event, /) -> tuple[str, str]: ...


def append(conn: Connection, events: Sequence[Event], encode: EventEncoder) -> None:
    """Append ``events`` in ``conn``'s transaction: one statement for any number of them, on
    psycopg's own cursor (arrays go in binary, with no per-element escaping)."""
    if not events:
        return
    ids = []
    topics = []
    keys = []
    payloads = []
    for event in events:
        topic, payload = encode(event)
        ids.append(event.event_id)
        topics.append(topic)
        keys.append(event.aggregate_key)
        payloads.append(payload)
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    with driver.cursor() as cursor:
        cursor.execute(
            INSERT_EVENTS,
            {"event_id": ids, "topic": topics, "aggregate_key": keys, "payload": payloads},
        )
