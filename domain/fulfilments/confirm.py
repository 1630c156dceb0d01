"""Confirmation: one fulfilment sent with ``confirmShipment`` under a lease, with its id as
``packageReferenceId``, so that a resend (a lost response, a crash, a duplicate message) edits
the same package on Amazon and never adds a second one. The ship date sent is always the
store's ``shipped_at``, never "now"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from domain.fulfilments.errors import AmazonUnavailable, ShipmentRejected
from domain.fulfilments.model import package_for
from domain.fulfilments.ports import FulfilmentStore, ShipmentGateway
from domain.shared import LeaseLost

# After a transient failure the task retries itself; the sweeper takes over after this.
SWEEP_AFTER_TRANSIENT = timedelta(minutes=10)
# Each claim counts as an attempt; past this the fulfilment fails (a poison message, a worker
# killed on every try) and waits for an operator instead of looping for ever.
MAX_ATTEMPTS = 20


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    FAILED = "failed"
    DEFERRED = "deferred"  # Amazon asked for a long wait: the sweeper sends it later
    SKIPPED = "skipped"  # not ours to send now (done, failed, or another worker holds it)
    LEASE_LOST = "lease_lost"  # another worker took it over while we were sending


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    fulfilment_id: int
    outcome: Outcome
    detail: str | None = None


def confirm_fulfilment(
    fulfilment_id: int,
    *,
    store: FulfilmentStore,
    amazon: ShipmentGateway,
    owner: str,
    lease: timedelta,
    longest_wait: timedelta,
) -> ConfirmResult:
    """Send one fulfilment to Amazon and record the outcome. Safe to run twice and at once:
    only the lease holder sends, a confirmed one is never sent again, and a resend is an edit of
    the same package. A transient failure raises ``AmazonUnavailable`` after giving the
    fulfilment back (the caller retries); a wait longer than ``longest_wait`` is left to the
    sweeper.

    ``owner`` is this attempt's own token. The gateway renews the lease right before each call
    and raises ``LeaseLost`` instead of calling when another attempt holds it now: this attempt
    then ends as ``LEASE_LOST`` having sent nothing (or, lost before the read-back, having sent
    what the new holder sends again as an edit of the same package)."""
    fulfilment = store.claim(fulfilment_id, owner, lease)
    if fulfilment is None:
        return ConfirmResult(fulfilment_id, Outcome.SKIPPED)
    if fulfilment.attempts > MAX_ATTEMPTS:
        message = f"gave up after {MAX_ATTEMPTS} attempts; last error: {fulfilment.last_error}"
        recorded = store.record_failed(fulfilment_id, owner, "TooManyAttempts", message)
        return ConfirmResult(fulfilment_id, Outcome.FAILED if recorded else Outcome.LEASE_LOST)
    try:
        amazon.confirm_shipment(
            fulfilment.account_id,
            fulfilment.amazon_order_id,
            fulfilment.marketplace_id,
            package_for(fulfilment),
        )
    except LeaseLost as exc:
        return ConfirmResult(fulfilment_id, Outcome.LEASE_LOST, str(exc))
    except ShipmentRejected as exc:
        recorded = store.record_failed(fulfilment_id, owner, exc.code, exc.message)
        outcome = Outcome.FAILED if recorded else Outcome.LEASE_LOST
        return ConfirmResult(fulfilment_id, outcome, str(exc))
    except AmazonUnavailable as exc:
        if exc.retry_after is not None and exc.retry_after > longest_wait:
            store.release(fulfilment_id, owner, exc.retry_after, exc.reason)
            return ConfirmResult(fulfilment_id, Outcome.DEFERRED, exc.reason)
        store.release(fulfilment_id, owner, SWEEP_AFTER_TRANSIENT, exc.reason)
        raise
    try:
        read_back = amazon.read_back(
            fulfilment.account_id, fulfilment.amazon_order_id, fulfilment.package_reference_id
        )
    except LeaseLost as exc:  # sent; the new holder sends it again (an edit) and records it
        return ConfirmResult(fulfilment_id, Outcome.LEASE_LOST, str(exc))
    recorded = store.record_confirmed(fulfilment, owner, read_back)
    return ConfirmResult(fulfilment_id, Outcome.CONFIRMED if recorded else Outcome.LEASE_LOST)
