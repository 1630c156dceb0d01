"""The relay: deliveries of the outbox to the platform's subscribers, one at a time, each
claimed under a lease committed before the POST (a worker killed mid-send leaves a lease that
runs out, not a delivery lost), then recorded.

The store's side is a port (``DeliveryLedger``) that ``infra.db.deliveries.SqlDeliveries``
implements; this module decides what an attempt came to (``webhooks.classify``) and never
touches SQL, so the platform side depends on no database.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal, Protocol

import httpx

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

DELIVER_BATCH = 100
SUPERSEDED = "superseded"

AttemptOutcome = Literal["delivered", "gone", "retry"]
_OUTCOMES: dict[Outcome, AttemptOutcome] = {
    Outcome.DELIVERED: "delivered",
    Outcome.GONE: "gone",
    Outcome.RETRY: "retry",
}


class LeasedDelivery(Protocol):
    """A delivery the ledger leased for one attempt, with its event as stored."""

    @property
    def delivery_id(self) -> int: ...
    @property
    def attempt(self) -> int: ...
    @property
    def subscriber_url(self) -> str: ...
    @property
    def event_id(self) -> uuid.UUID: ...
    @property
    def topic(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def payload_json(self) -> str: ...
    @property
    def timestamp(self) -> int: ...


class DeliveryLedger(Protocol):
    """Where deliveries are kept. Each call commits before it returns."""

    def claim_next(self, *, lease_s: float) -> LeasedDelivery | None:
        """Lease the next deliverable head of a chain (nothing earlier of its subscriber and
        order undelivered), or None."""
        ...

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
        """Log the attempt, move the delivery on; its new state, or ``SUPERSEDED`` when the
        lease ran out and another worker claimed it since."""
        ...


@dataclass(frozen=True)
class Claim:
    """A delivery leased to this worker for one attempt, its event as it is sent."""

    delivery_id: int
    attempt: int
    subscriber_url: str
    event: WebhookEvent
    # Unix seconds from the store's clock at the claim: the signed X-Channel-Timestamp.
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


def as_claim(leased: LeasedDelivery) -> Claim:
    event = WebhookEvent(
        event_id=leased.event_id,
        topic=leased.topic,
        created_at=leased.created_at,
        payload_json=leased.payload_json,
    )
    return Claim(leased.delivery_id, leased.attempt, leased.subscriber_url, event, leased.timestamp)


def claim(ledger: DeliveryLedger, *, lease_s: float) -> Claim | None:
    leased = ledger.claim_next(lease_s=lease_s)
    return as_claim(leased) if leased is not None else None


def record(
    ledger: DeliveryLedger,
    claim: Claim,
    result: AttemptResult,
    *,
    retry_window_s: float,
    retry_delay_s: float,
) -> str:
    """What the attempt came to, recorded under the claim's lease; the delivery's new state."""
    return ledger.record_attempt(
        claim.delivery_id,
        claim.attempt,
        _OUTCOMES[classify(result)],
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
        retry_window_s=retry_window_s,
        retry_delay_s=retry_delay_s,
    )


def deliver_due(
    ledger: DeliveryLedger,
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
        claimed = claim(ledger, lease_s=lease_s)
        if claimed is None:
            return report
        report.claimed += 1
        result = send(
            client,
            claimed.subscriber_url,
            claimed.event,
            secret=secret,
            attempt=claimed.attempt,
            timestamp=claimed.timestamp,
        )
        state = record(
            ledger,
            claimed,
            result,
            retry_window_s=retry_hours * 3600,
            retry_delay_s=retry_delay(claimed.attempt, rng),
        )
        _tally(report, state)
        log.info(
            "webhook attempt",
            extra={
                "delivery_id": claimed.delivery_id,
                "event_id": str(claimed.event.event_id),
                "topic": claimed.event.topic,
                "attempt": claimed.attempt,
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
