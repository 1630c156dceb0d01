"""The relay's entry points as the events tasks call them today, on sessions: a face over
``infra.db.deliveries`` (the SQL) and ``infra.platform.relay`` (the delivery logic). It is the
one module of ``infra.platform`` that reaches the database; a caller that builds
``SqlDeliveries`` itself and hands it to ``relay.deliver_due`` needs none of it.
"""

from __future__ import annotations

import random

import httpx
from sqlalchemy.orm import Session, sessionmaker

from infra.db.deliveries import (
    DISPATCH_BATCH,
    SUPERSEDED,
    Db,
    DispatchReport,
    SqlDeliveries,
    dispatch,
)
from infra.db.deliveries import claim_next as _claim_next
from infra.db.deliveries import record_attempt as _record_attempt
from infra.platform import relay
from infra.platform.relay import DELIVER_BATCH, Claim, DeliveryReport
from infra.platform.webhooks import AttemptResult

__all__ = [
    "DELIVER_BATCH",
    "DISPATCH_BATCH",
    "SUPERSEDED",
    "Claim",
    "DeliveryReport",
    "DispatchReport",
    "claim_next",
    "deliver_due",
    "dispatch",
    "record_attempt",
]


class _InTransaction:
    """The ledger on the caller's session or connection (the caller commits)."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def claim_next(self, *, lease_s: float) -> relay.LeasedDelivery | None:
        return _claim_next(self.db, lease_s=lease_s)

    def record_attempt(
        self,
        delivery_id: int,
        attempt: int,
        outcome: relay.AttemptOutcome,
        *,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        retry_window_s: float,
        retry_delay_s: float,
    ) -> str:
        return _record_attempt(
            self.db,
            delivery_id,
            attempt,
            outcome,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            retry_window_s=retry_window_s,
            retry_delay_s=retry_delay_s,
        )


def claim_next(db: Db, *, lease_s: float) -> Claim | None:
    """Lease the next deliverable head of a chain, or None. The caller commits before sending."""
    return relay.claim(_InTransaction(db), lease_s=lease_s)


def record_attempt(
    db: Db,
    claim: Claim,
    result: AttemptResult,
    *,
    retry_window_s: float,
    retry_delay_s: float,
) -> str:
    """Log the attempt and move the delivery on, in the caller's transaction."""
    return relay.record(
        _InTransaction(db),
        claim,
        result,
        retry_window_s=retry_window_s,
        retry_delay_s=retry_delay_s,
    )


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
    """``relay.deliver_due`` over the store's deliveries."""
    return relay.deliver_due(
        SqlDeliveries(sessions),
        client,
        secret=secret,
        retry_hours=retry_hours,
        lease_s=lease_s,
        limit=limit,
        budget_s=budget_s,
        rng=rng,
    )
