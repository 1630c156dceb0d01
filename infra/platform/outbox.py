"""The outbox relay in SQL: fan events out into one delivery per subscriber, then deliver each
with a lease row committed before the HTTP call (RELIABILITY.md §3.2-3.3). At least once, in
order per (subscriber, order); subscribers dedupe by event id.

A delivery's life::

    pending --claim--> sending --2xx--> delivered
       ^                  |  \\--410 or retry window over--> dead
       \\---retry (backoff)-/
    sending with lease_until < now() (worker killed mid-send) is claimable again.

``attempts`` doubles as the fencing token: a claim increments it and the result is written only
``WHERE attempts = <the claimed attempt> AND state = 'sending'``, so a worker whose lease expired
and was re-claimed cannot overwrite the newer attempt's outcome. All times are PostgreSQL's
``now()``.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import httpx
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from infra.platform.webhooks import (
    AttemptResult,
    Outcome,
    WebhookConfigError,
    WebhookEvent,
    classify,
    retry_delay,
    send,
)

log = logging.getLogger(__name__)

Db = Session | Connection

DISPATCH_BATCH = 500
DELIVER_BATCH = 100

_PICK_UNDISPATCHED = text(
    """
    SELECT id FROM outbox_events
    WHERE dispatched_at IS NULL
    ORDER BY id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)

_FAN_OUT = text(
    """
    INSERT INTO webhook_deliveries (event_id, aggregate_key, subscriber_url)
    SELECT e.id, e.aggregate_key, u.url
    FROM outbox_events AS e
    CROSS JOIN unnest(CAST(:urls AS text[])) AS u(url)
    WHERE e.id = ANY(CAST(:ids AS bigint[]))
    ORDER BY e.id
    ON CONFLICT (event_id, subscriber_url) DO NOTHING
    RETURNING id
    """
)

_MARK_DISPATCHED = text(
    "UPDATE outbox_events SET dispatched_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))"
)

# The head of a chain: due (or its lease expired), and nothing earlier for the same subscriber
# and order is still undelivered or not yet fanned out (a concurrent dispatcher may hold it).
# A snapshot can only be stale in the safe direction: delivered, dead and dispatched are final.
_CLAIM_NEXT = text(
    """
    WITH head AS (
        SELECT d.id
        FROM webhook_deliveries AS d
        WHERE (
            (d.state = 'pending' AND d.next_attempt_at <= now())
            OR (d.state = 'sending' AND d.lease_until < now())
        )
        AND NOT EXISTS (
            SELECT 1 FROM webhook_deliveries AS earlier
            WHERE earlier.subscriber_url = d.subscriber_url
              AND earlier.aggregate_key = d.aggregate_key
              AND earlier.event_id < d.event_id
              AND earlier.state IN ('pending', 'sending')
        )
        AND NOT EXISTS (
            SELECT 1 FROM outbox_events AS undispatched
            WHERE undispatched.aggregate_key = d.aggregate_key
              AND undispatched.id < d.event_id
              AND undispatched.dispatched_at IS NULL
        )
        ORDER BY d.next_attempt_at, d.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_deliveries AS w
    SET state = 'sending',
        attempts = w.attempts + 1,
        lease_until = now() + make_interval(secs => :lease_s)
    FROM head, outbox_events AS e
    WHERE w.id = head.id AND e.id = w.event_id
    RETURNING w.id, w.attempts, w.subscriber_url, e.event_id, e.topic, e.created_at,
              e.payload::text, floor(extract(epoch FROM now()))::bigint
    """
)

_LOG_ATTEMPT = text(
    """
    INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms)
    VALUES (:id, :status, :error, :duration_ms)
    """
)

_FENCE = "w.id = :id AND w.attempts = :attempt AND w.state = 'sending'"

_MARK_DELIVERED = text(
    f"""
    UPDATE webhook_deliveries AS w
    SET state = 'delivered', delivered_at = now(), lease_until = NULL,
        last_status = :status, last_error = NULL
    WHERE {_FENCE}
    RETURNING w.state
    """
)

_MARK_GONE = text(
    f"""
    UPDATE webhook_deliveries AS w
    SET state = 'dead', lease_until = NULL, last_status = :status,
        last_error = 'HTTP 410 Gone: the subscriber asked us to stop'
    WHERE {_FENCE}
    RETURNING w.state
    """
)

# Retry until the window after the event's creation is over; the last try falls on the deadline.
_MARK_RETRY = text(
    f"""
    UPDATE webhook_deliveries AS w
    SET state = CASE
            WHEN now() >= e.created_at + make_interval(secs => :window_s) THEN 'dead'
            ELSE 'pending'
        END,
        next_attempt_at = LEAST(
            now() + make_interval(secs => :delay_s),
            e.created_at + make_interval(secs => :window_s)
        ),
        lease_until = NULL, last_status = :status, last_error = :error
    FROM outbox_events AS e
    WHERE {_FENCE} AND e.id = w.event_id
    RETURNING w.state
    """
)

SUPERSEDED = "superseded"


@dataclass(frozen=True)
class DispatchReport:
    events: int
    deliveries: int


@dataclass(frozen=True)
class Claim:
    """A delivery leased to this worker for one attempt."""

    delivery_id: int
    attempt: int
    subscriber_url: str
    event: WebhookEvent
    # Unix seconds from PostgreSQL's clock at the claim: the signed X-Channel-Timestamp.
    timestamp: int


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    superseded: int = 0
    # The run stopped at its limit or time budget, so there may be more due now.
    more: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


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
    ids = [int(row[0]) for row in db.execute(_PICK_UNDISPATCHED, {"limit": limit})]
    if not ids:
        return DispatchReport(0, 0)
    fanned = len(db.execute(_FAN_OUT, {"ids": ids, "urls": urls}).all())
    db.execute(_MARK_DISPATCHED, {"ids": ids})
    return DispatchReport(len(ids), fanned)


def claim_next(db: Db, *, lease_s: float) -> Claim | None:
    """Lease the next deliverable head of a chain, or None. The caller commits before sending."""
    row = db.execute(_CLAIM_NEXT, {"lease_s": float(lease_s)}).one_or_none()
    if row is None:
        return None
    delivery_id, attempt, url, event_id, topic, created_at, payload_json, now_s = row
    event = WebhookEvent(
        event_id=_as_uuid(event_id),
        topic=str(topic),
        created_at=_as_datetime(created_at),
        payload_json=str(payload_json),
    )
    return Claim(int(delivery_id), int(attempt), str(url), event, int(now_s))


def record_attempt(
    db: Db,
    claim: Claim,
    result: AttemptResult,
    *,
    retry_window_s: float,
    retry_delay_s: float,
) -> str:
    """Log the attempt and move the delivery on; returns its new state, or ``SUPERSEDED`` when
    the lease had expired and another worker claimed the delivery since (the log still has it)."""
    db.execute(
        _LOG_ATTEMPT,
        {
            "id": claim.delivery_id,
            "status": result.status_code,
            "error": result.error,
            "duration_ms": result.duration_ms,
        },
    )
    fence = {"id": claim.delivery_id, "attempt": claim.attempt, "status": result.status_code}
    outcome = classify(result)
    if outcome is Outcome.DELIVERED:
        row = db.execute(_MARK_DELIVERED, fence).one_or_none()
    elif outcome is Outcome.GONE:
        row = db.execute(_MARK_GONE, fence).one_or_none()
    else:
        params = {
            **fence,
            "error": result.error,
            "window_s": float(retry_window_s),
            "delay_s": float(retry_delay_s),
        }
        row = db.execute(_MARK_RETRY, params).one_or_none()
    return SUPERSEDED if row is None else str(row[0])


def deliver_due(
    sessions: sessionmaker[Session],
    client: httpx.Client,
    *,
    secret: str,
    retry_hours: float,
    lease_s: float,
    limit: int = DELIVER_BATCH,
    budget_s: float = 240.0,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Deliver up to ``limit`` due deliveries, one at a time: claim and commit, POST, record.

    ``lease_s`` must exceed the task's hard time limit, which exceeds the HTTP timeout: a live
    attempt is then killed by Celery before its lease can expire and another worker claim it.
    ``budget_s`` stops claiming early enough that the last POST ends before the soft time limit.
    """
    if not secret:
        raise WebhookConfigError("WEBHOOK_SECRET is empty: refusing to send unsigned events")
    report = DeliveryReport()
    stop_at = time.monotonic() + budget_s
    while report.claimed < limit and time.monotonic() < stop_at:
        with sessions.begin() as session:
            claim = claim_next(session, lease_s=lease_s)
        if claim is None:
            return report
        report.claimed += 1
        result = send(
            client,
            claim.subscriber_url,
            claim.event,
            secret=secret,
            attempt=claim.attempt,
            timestamp=claim.timestamp,
        )
        with sessions.begin() as session:
            state = record_attempt(
                session,
                claim,
                result,
                retry_window_s=retry_hours * 3600,
                retry_delay_s=retry_delay(claim.attempt, rng),
            )
        _tally(report, state)
        log.info(
            "webhook attempt",
            extra={
                "delivery_id": claim.delivery_id,
                "event_id": str(claim.event.event_id),
                "topic": claim.event.topic,
                "attempt": claim.attempt,
                "status": result.status_code,
                "error": result.error,
                "state": state,
                "duration_ms": result.duration_ms,
            },
        )
    report.more = True
    return report


def _tally(report: DeliveryReport, state: str) -> None:
    if state == "delivered":
        report.delivered += 1
    elif state == "dead":
        report.dead += 1
    elif state == SUPERSEDED:
        report.superseded += 1
    else:
        report.retrying += 1


def _as_uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _as_datetime(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"outbox_events.created_at is {type(value).__name__}, not datetime")
    return value
