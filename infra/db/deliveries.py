"""Webhook deliveries in the store: events fanned out to every subscriber, the next delivery
leased for one attempt, and the attempt recorded. The relay (``infra.platform.relay``) drives
them over ``SqlDeliveries``; the functions work in the caller's transaction.

A delivery's life::

    pending --claim--> sending --2xx--> delivered
       ^                  |  \\--410 or retry window over--> dead
       \\---retry (backoff)-/
    sending with lease_until < now() (worker killed mid-send) is claimable again.

At least once, in order per (subscriber, order); subscribers dedupe by event id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from infra.db.sql.deliveries import (
    CLAIM_NEXT,
    FAN_OUT,
    LOG_ATTEMPT,
    MARK_DELIVERED,
    MARK_DISPATCHED,
    MARK_GONE,
    MARK_RETRY,
    PICK_UNDISPATCHED,
)

Db = Session | Connection
# What an attempt came to, as the relay classified it.
AttemptOutcome = Literal["delivered", "gone", "retry"]

DISPATCH_BATCH = 500
# The state written when the lease had expired and another worker claimed the delivery since.
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class DispatchReport:
    events: int
    deliveries: int


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery leased for one attempt, with its event as stored."""

    delivery_id: int
    attempt: int
    subscriber_url: str
    event_id: uuid.UUID
    topic: str
    created_at: datetime
    # The stored JSON text, sent unparsed so numbers and strings reach the subscriber exactly
    # as the producer wrote them.
    payload_json: str
    # Unix seconds from PostgreSQL's clock at the claim: the signed X-Channel-Timestamp.
    timestamp: int


def dispatch(
    db: Db, subscriber_urls: Sequence[str], *, limit: int = DISPATCH_BATCH
) -> DispatchReport:
    """Fan up to ``limit`` undispatched events out to every subscriber, in the caller's
    transaction (commit it, then enqueue delivery). Safe twice: the unique (event, subscriber)
    key makes a repeat a no-op, and SKIP LOCKED keeps concurrent dispatchers apart.

    With no subscriber configured nothing is dispatched: events wait in the outbox for the first
    subscriber rather than being marked done for nobody.
    """
    urls = list(dict.fromkeys(subscriber_urls))
    if not urls:
        return DispatchReport(0, 0)
    ids = [int(row[0]) for row in db.execute(PICK_UNDISPATCHED, {"limit": limit})]
    if not ids:
        return DispatchReport(0, 0)
    fanned = len(db.execute(FAN_OUT, {"ids": ids, "urls": urls}).all())
    db.execute(MARK_DISPATCHED, {"ids": ids})
    return DispatchReport(len(ids), fanned)


def claim_next(db: Db, *, lease_s: float) -> ClaimedDelivery | None:
    """Lease the next deliverable head of a chain, or None. The caller commits before sending."""
    row = db.execute(CLAIM_NEXT, {"lease_s": float(lease_s)}).one_or_none()
    if row is None:
        return None
    delivery_id, attempt, url, event_id, topic, created_at, payload_json, now_s = row
    if not isinstance(created_at, datetime):
        raise TypeError(f"outbox_events.created_at is {type(created_at).__name__}, not datetime")
    return ClaimedDelivery(
        delivery_id=int(delivery_id),
        attempt=int(attempt),
        subscriber_url=str(url),
        event_id=event_id if isinstance(event_id, uuid.UUID) else uuid.UUID(str(event_id)),
        topic=str(topic),
        created_at=created_at,
        payload_json=str(payload_json),
        timestamp=int(now_s),
    )


def record_attempt(
    db: Db,
    delivery_id: int,
    attempt: int,
    outcome: AttemptOutcome,
    *,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    retry_window_s: float,
    retry_delay_s: float,
) -> str:
    """Log the attempt and move the delivery on; returns its new state, or ``SUPERSEDED`` when
    the lease had expired and another worker claimed the delivery since (the log still has it)."""
    db.execute(
        LOG_ATTEMPT,
        {"id": delivery_id, "status": status_code, "error": error, "duration_ms": duration_ms},
    )
    fence = {"id": delivery_id, "attempt": attempt, "status": status_code}
    if outcome == "delivered":
        row = db.execute(MARK_DELIVERED, fence).one_or_none()
    elif outcome == "gone":
        row = db.execute(MARK_GONE, fence).one_or_none()
    else:
        params = {
            **fence,
            "error": error,
            "window_s": float(retry_window_s),
            "delay_s": float(retry_delay_s),
        }
        row = db.execute(MARK_RETRY, params).one_or_none()
    return SUPERSEDED if row is None else str(row[0])


class SqlDeliveries:
    """The relay's ledger (``infra.platform.relay.DeliveryLedger``): each call is a
    transaction of its own, committed before it returns (a claim is committed before the POST)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def dispatch(
        self, subscriber_urls: Sequence[str], *, limit: int = DISPATCH_BATCH
    ) -> DispatchReport:
        with self.sessions.begin() as session:
            return dispatch(session, subscriber_urls, limit=limit)

    def claim_next(self, *, lease_s: float) -> ClaimedDelivery | None:
        with self.sessions.begin() as session:
            return claim_next(session, lease_s=lease_s)

    def record_attempt(
        self,
        delivery_id: int,
        attempt: int,
        outcome: AttemptOutcome,
        *,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        retry_window_s: float,
        retry_delay_s: float,
    ) -> str:
        with self.sessions.begin() as session:
            return record_attempt(
                session,
                delivery_id,
                attempt,
                outcome,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
                retry_window_s=retry_window_s,
                retry_delay_s=retry_delay_s,
            )
