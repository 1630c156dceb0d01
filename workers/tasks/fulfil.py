"""Fulfil queue: take in the platform's requests, confirm them on Amazon, read back what was put
off, sweep, watch ship-by dates. Thin: the use cases in ``domain.fulfilments`` decide; these
rebuild arguments and call."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from domain.fulfilments import (
    SWEEP_AFTER,
    Accepted,
    AmazonUnavailable,
    Outcome,
    check_deadlines,
    confirm_fulfilment,
    read_back_pending,
)
from infra.logging import bind_order
from workers import bootstrap, leases
from workers.base import TransientError, channel_task
from workers.doors import fulfilments as producer
from workers.epoch import lost_before
from workers.queues import MAX_COUNTDOWN_S
from workers.schedule import SWEEP_FULFILMENTS_S

log = logging.getLogger(__name__)

# Waits longer than a countdown may be go to the sweeper (``next_attempt_at``), not the broker.
LONGEST_WAIT = timedelta(seconds=MAX_COUNTDOWN_S)
# After the sweeper queues a fulfilment it leaves it alone this long (a queue may be backed up).
# A claim clears that push, so a fulfilment whose attempt died is taken again as soon as its
# lease (``workers.leases.LEASE``) runs out, not this long after.
SWEEP_RESEND_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 200
# What nobody claimed (its message lost, its task in a long backoff) is queued by a sweep within
# this of its acceptance; with the confirmation itself, within the minute a fault may cost.
UNCLAIMED_QUEUED_WITHIN_S = SWEEP_AFTER.total_seconds() + SWEEP_FULFILMENTS_S
assert UNCLAIMED_QUEUED_WITHIN_S <= 45, "an unclaimed fulfilment must be confirmed within 60 s"
# Read-backs put off by a spent getOrder budget: at most this many per run (a run stops for a
# seller as soon as its budget is spent again), each claimed for READ_BACK_LEASE.
READ_BACK_BATCH = 200
READ_BACK_LEASE = timedelta(minutes=2)


@channel_task("fulfil.intake")
def intake(message: dict[str, Any]) -> dict[str, Any]:
    """A ``fulfilment.requested`` message from the platform (the queue's door)."""
    result = producer.take_in_message(message, clock=bootstrap.container().clock)
    if isinstance(result, Accepted):
        return {"accepted": True, "fulfilment_id": result.fulfilment.id}
    return {"accepted": False, "reason": result.message}


@channel_task("fulfil.confirm")
def confirm(fulfilment_id: int) -> dict[str, Any]:
    """One attempt at sending a fulfilment, under a lease of its own (``workers.leases``): a
    copy of this message that meets a live lease leaves at once, and a retry of this task is
    not locked out by this attempt's lease (it is given back or let go first)."""
    fid = int(fulfilment_id)
    c = bootstrap.container()
    store = c.fulfilment_store
    known = store.get(fid)  # its lines name the account and order
    if known is not None:
        bind_order(known.account_id, known.amazon_order_id)
    with leases.attempt(
        f"fulfilment {fid}",
        renew=lambda token, lease: store.renew_lease(fid, token, lease),
        let_go=lambda token: store.let_go(fid, token),
    ) as owner:
        try:
            result = confirm_fulfilment(
                fid,
                store=store,
                amazon=c.shipments,
                owner=owner,
                lease=leases.LEASE,
                longest_wait=LONGEST_WAIT,
            )
        except AmazonUnavailable as exc:
            wait = exc.retry_after.total_seconds() if exc.retry_after is not None else None
            raise TransientError(exc.reason, retry_after_s=wait) from exc
    if result.outcome is Outcome.LEASE_LOST:
        log.warning("fulfilment lease lost", extra={"fulfilment_id": fid, "detail": result.detail})
    return {"fulfilment_id": result.fulfilment_id, "outcome": result.outcome.value}


@channel_task("fulfil.sweep")
def sweep() -> int:
    """Beat's trigger: queue what nobody is sending, the nearest ship-by first; after the broker
    lost its data, also what it had queued before (``workers.epoch``)."""
    c = bootstrap.container()
    now = c.clock.now()
    lost = lost_before(SWEEP_RESEND_AFTER, now, sweeper="fulfil.sweep")
    due = c.fulfilment_store.due_for_sending(SWEEP_BATCH, SWEEP_RESEND_AFTER, lost)
    for item in due:
        producer.enqueue_confirmation(
            item.fulfilment_id,
            item.ship_by_latest,
            now=now,
            account=item.account_id,
            amazon_order_id=item.amazon_order_id,
        )
    return len(due)


@channel_task("fulfil.read_back")
def read_back() -> int:
    """Beat's trigger: read back the confirmations whose read-back was put off, while each
    seller's getOrder budget has tokens free (it never waits for one)."""
    c = bootstrap.container()
    return read_back_pending(
        c.fulfilment_store, c.shipments, c.clock, limit=READ_BACK_BATCH, lease=READ_BACK_LEASE
    )


@channel_task("fulfil.check_deadlines")
def check_ship_by_deadlines() -> dict[str, Any]:
    """Beat's trigger: warn before ship-by dates pass, and when they have."""
    c = bootstrap.container()
    warning = timedelta(hours=c.settings.ship_by_warning_hours)
    report = check_deadlines(c.fulfilment_store, c.clock, warning)
    return {
        "skipped": report.skipped,
        "checked": report.checked,
        "approaching": report.approaching,
        "missed": report.missed,
    }
