"""Refund queue: take in the platform's refunds and cancellations, batch them into feeds, move
each feed submission on (upload, create, follow, apply its report), and sweep Amazon's Finances
for refunds made in Seller Central. Thin: the use cases in ``domain.refunds`` and
``domain.feeds`` decide; these rebuild arguments and call.

A submission's task queues itself again when the submission says when it is due next (a poll of
getFeed, a throttle's wait); the beat's sweep picks up whatever a lost message or a dead worker
left, so nothing depends on a message arriving.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any

from domain.feeds import AmazonBusy
from domain.feeds.submit import Outcome, advance, due_submissions
from domain.refunds import Accepted, explain_failures, flush, sweep_amazon_refunds
from infra.db.calls import about_orders, submission_orders
from workers import bootstrap, leases
from workers.app import app
from workers.base import channel_task, shown_as
from workers.doors import refunds as door
from workers.epoch import lost_before
from workers.queues import MAX_COUNTDOWN_S

log = logging.getLogger(__name__)

# A submission's lease is one attempt's, short and kept alive by a heartbeat
# (``workers.leases.LEASE``); every call under it, createFeed's included, ends before it could
# run out (``workers.leases.CALL_TIMEOUT``).
# A submission due again within this is queued again with a countdown; later ones wait for the
# sweep (their next_attempt_at is in the store).
LONGEST_COUNTDOWN = timedelta(seconds=MAX_COUNTDOWN_S)
SWEEP_BATCH = 100
# After the sweep queues a submission it leaves it alone this long (a queue may be backed up).
SWEEP_RESEND_AFTER = timedelta(minutes=2)
# At most one asked-for flush runs in this window (``flush_refunds``).
FLUSH_MARK = "amazon-channel:refund:flush-ran"
FLUSH_GAP_MS = 1000
# Outcomes after which refunds changed state: the events go out, and the batcher may go on.
_SETTLED = frozenset(
    {
        Outcome.CREATED,
        Outcome.FOUND,
        Outcome.NOT_CREATED,
        Outcome.REFUSED,
        Outcome.DONE,
        Outcome.FATAL,
    }
)


@channel_task("refund.intake")
def intake(message: dict[str, Any]) -> dict[str, Any]:
    """A ``refund.requested`` or ``cancellation.requested`` message (the queue's door)."""
    result = door.take_in_message(message, clock=bootstrap.container().clock)
    if isinstance(result, Accepted):
        return {"accepted": True, "refund_id": result.refund.id, "state": result.refund.state}
    return {"accepted": False, "reason": result.message}


@channel_task("refund.flush")
def flush_refunds(account_id: int | None = None) -> dict[str, Any]:
    """Batch what is due into feeds (every seller's: ``account_id`` says who asked) and queue
    each new submission. Every accepted refund asks for a flush, so a thousand accepted at once
    queue a thousand of these: one runs per ``FLUSH_GAP_MS`` and the rest return at once (the
    one that ran saw their refunds too; beat's sweep comes every 10 s whatever happens)."""
    marked = bootstrap.container().redis.set(FLUSH_MARK, 1, nx=True, px=FLUSH_GAP_MS)
    if not marked:
        return {"built": [], "skipped": True}
    built = _flush()
    return {"built": built}


def _flush() -> list[int]:
    c = bootstrap.container()
    built = flush(
        store=c.refund_store,
        amazon=c.feeds,
        finances=c.finances,
        recorder=c.refund_store,
        clock=c.clock,
    )
    for submission_id in built:
        advance_submission.apply_async(args=[submission_id], **shown_as(submission=submission_id))
    if built:
        app.send_task("events.dispatch")  # refunds the check failed or recorded from Amazon
    return built


@channel_task("refund.advance")
def advance_submission(submission_id: int) -> dict[str, Any]:
    """Move one feed submission on as far as it goes now, and queue it again for when it is due."""
    sid = int(submission_id)
    c = bootstrap.container()
    store = c.submission_store
    # A feed's calls name no order: they are recorded for the orders of its messages. The lease
    # is this attempt's own (``workers.leases``): a copy of this message that meets it leaves.
    with (
        about_orders(submission_orders(c.engine, sid)),
        leases.attempt(
            f"feed submission {sid}",
            renew=lambda token, lease: store.renew_submission(sid, token, lease),
            let_go=lambda token: store.let_go_submission(sid, token),
        ) as owner,
    ):
        result = advance(
            sid,
            store=store,
            amazon=c.feeds,
            owner=owner,
            lease=leases.LEASE,
            clock=c.clock,
            explain=lambda submission, outcomes: explain_failures(
                submission,
                outcomes,
                finances=c.finances,
                store=c.refund_store,
                refund_of=c.refund_store.get,
                clock=c.clock,
            ),
        )
    if result.outcome is Outcome.LEASE_LOST:
        log.warning("feed submission lease lost", extra={"submission_id": sid})
    if result.retry_in is not None and result.retry_in <= LONGEST_COUNTDOWN:
        advance_submission.apply_async(
            args=[submission_id],
            countdown=max(result.retry_in.total_seconds(), 1.0),
            **shown_as(submission=submission_id),
        )
    if result.outcome in _SETTLED:
        app.send_task("events.dispatch")
        app.send_task(door.FLUSH_TASK, queue=door.QUEUE)  # the next feed of the key may go
    return {
        "submission_id": result.submission_id,
        "outcome": result.outcome.value,
        "detail": result.detail,
    }


@channel_task("refund.sweep")
def sweep() -> dict[str, Any]:
    """Beat's trigger: batch what is due, and queue the submissions nobody is moving on (a
    lost message, a dead worker's lease, a long wait put in the store); after the broker lost
    its data, also those it had queued before (``workers.epoch``)."""
    built = _flush()
    c = bootstrap.container()
    lost = lost_before(SWEEP_RESEND_AFTER, c.clock.now(), sweeper="refund.sweep")
    due = due_submissions(
        c.submission_store, limit=SWEEP_BATCH, resend_after=SWEEP_RESEND_AFTER, lost_before=lost
    )
    for submission_id in due:
        if submission_id not in built:
            advance_submission.apply_async(
                args=[submission_id], **shown_as(submission=submission_id)
            )
    return {"built": built, "queued": due}


@channel_task("refund.sweep_amazon")
def sweep_amazon() -> dict[str, Any]:
    """Beat's trigger: record the refunds Amazon posted that the store did not make (Seller
    Central's), for every connected account, from each one's watermark."""
    c = bootstrap.container()
    recorded = 0
    busy: list[int] = []
    for account_id in c.refund_store.sweep_accounts():
        with contextlib.suppress(AmazonBusy):
            result = sweep_amazon_refunds(
                account_id, finances=c.finances, store=c.refund_store, clock=c.clock
            )
            recorded += len(result.recorded)
            continue
        busy.append(account_id)  # its watermark stays: the next sweep reads the same window
    if recorded:
        app.send_task("events.dispatch")
    return {"recorded": recorded, "busy": busy}
