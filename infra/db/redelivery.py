"""An event delivered again: its webhook deliveries put back to ``pending``, due now, so the
relay (``infra.platform.relay``, the ``events.deliver`` task) sends them through its one path:
claimed under a lease, signed, recorded attempt by attempt (``infra.db.deliveries``).

A delivery that is ``dead`` (its retry window over, or the subscriber answered 410) or
``delivered`` is sent again; one being sent right now (``sending`` under a live lease) is left
to finish. A subscriber the event was never fanned out to gets a delivery of its own. The
attempt count goes on (it is the lease's fencing token); a redelivered event past its retry
window gets one try, then is ``dead`` again if it fails.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, text

_FIND_EVENT = text(
    "SELECT id, event_id, topic FROM outbox_events WHERE event_id = CAST(:event_id AS uuid)"
)
_FIND_EVENT_BY_ID = text("SELECT id, event_id, topic FROM outbox_events WHERE id = :id")

_AGAIN = """
    state = 'pending', next_attempt_at = now(), lease_until = NULL
"""
_NOT_IN_FLIGHT = "(w.state <> 'sending' OR w.lease_until < now())"

_REDELIVER_ALL = text(
    f"""
    UPDATE webhook_deliveries AS w SET {_AGAIN}
    WHERE w.event_id = :id AND {_NOT_IN_FLIGHT}
    RETURNING w.subscriber_url
    """
)

_REDELIVER_TO = text(
    f"""
    INSERT INTO webhook_deliveries AS w (event_id, aggregate_key, subscriber_url)
    SELECT e.id, e.aggregate_key, :url FROM outbox_events AS e WHERE e.id = :id
    ON CONFLICT (event_id, subscriber_url) DO UPDATE SET {_AGAIN}
    WHERE {_NOT_IN_FLIGHT}
    RETURNING w.subscriber_url
    """
)

_DELIVERIES = text(
    "SELECT subscriber_url, state FROM webhook_deliveries WHERE event_id = :id ORDER BY id"
)


@dataclass(frozen=True)
class Redelivery:
    event_id: uuid.UUID
    topic: str
    # The subscribers it goes to again, and those left alone (being sent right now).
    again: tuple[str, ...]
    in_flight: tuple[str, ...]


class UnknownEvent(LookupError):
    """No event with that id in the outbox."""


def redeliver(engine: Engine, event: str, subscriber_url: str | None = None) -> Redelivery:
    """Put ``event`` (its event id, a UUID, or its outbox number) back to every subscriber it
    went to, or to ``subscriber_url`` only (fanned out to it when it never was). Committed: the
    caller then queues ``events.deliver``. Safe twice: a second call finds it pending already
    and leaves it pending."""
    with engine.begin() as conn:
        if event.isascii() and event.isdigit() and len(event) <= 18:
            found = conn.execute(_FIND_EVENT_BY_ID, {"id": int(event)}).one_or_none()
        else:
            try:
                found = conn.execute(_FIND_EVENT, {"event_id": str(uuid.UUID(event))}).one_or_none()
            except ValueError:
                found = None
        if found is None:
            raise UnknownEvent(event)
        outbox_id, event_id, topic = found
        if subscriber_url is None:
            again = [row[0] for row in conn.execute(_REDELIVER_ALL, {"id": outbox_id})]
        else:
            params = {"id": outbox_id, "url": subscriber_url}
            again = [row[0] for row in conn.execute(_REDELIVER_TO, params)]
        every = conn.execute(_DELIVERIES, {"id": outbox_id}).all()
    in_flight = [url for url, state in every if state == "sending" and url not in again]
    if subscriber_url is not None:
        in_flight = [url for url in in_flight if url == subscriber_url]
    return Redelivery(
        event_id=event_id if isinstance(event_id, uuid.UUID) else uuid.UUID(str(event_id)),
        topic=str(topic),
        again=tuple(again),
        in_flight=tuple(in_flight),
    )
