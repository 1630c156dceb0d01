"""A submission's life on Amazon, one step at a time under a lease: upload the document, create
the feed, follow its processing, apply its report; and, when createFeed's answer was lost, find
out from Amazon's listing what happened before anything is sent again.

Every step that calls Amazon runs after the claim was committed, and every call whose effect
matters is preceded by a committed record of it (``creating`` before ``createFeed``), so a worker
killed anywhere leaves a state the next ``advance`` finishes: a document uploaded twice is
harmless (nothing is processed until a feed names it), a report downloaded twice is applied
once (only messages still in the submission move), and a feed that may exist is looked for,
never created again.

Two submissions of one seller, marketplace and feed type are never ``creating`` at once (the
store refuses the second), so the feeds listed in one's window are its own or already known.
This holds while the lease is longer than createFeed's timeout: a worker whose lease ran out has
heard back (or given up) before another takes the submission over. The lease is one attempt's
(``owner`` is a fresh token, never a task id) and the gateway renews it right before each call,
raising ``LeaseLost`` instead of calling when another attempt holds it now: the attempt then ends
as ``LEASE_LOST`` having sent nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from domain.feeds.errors import AmazonBusy, FeedError, FeedRefused, OutcomeUnknown
from domain.feeds.model import ListedFeed, Submission, SubmissionState
from domain.feeds.outcomes import MessageOutcome, Verdict, read_report
from domain.feeds.ports import FeedGateway, SubmissionStore
from domain.shared import Clock, LeaseLost, format_utc

# What the messages' owner says of the failures in a report before they are recorded: it may
# give a clearer code and reason for a failed message (the refunds: "already refunded on
# Amazon on ..."), never change what was applied. Nothing Amazon-side is sent from it.
Explain = Callable[[Submission, Sequence[MessageOutcome]], Sequence[MessageOutcome]]


@dataclass(frozen=True, slots=True)
class FeedPolicy:
    """How long to wait between steps, and how often a message may be resent."""

    busy_wait: timedelta = timedelta(minutes=1)  # AmazonBusy without a retry_after
    failure_wait: timedelta = timedelta(minutes=1)  # first wait after a failed read or upload
    longest_wait: timedelta = timedelta(hours=1)
    first_poll: timedelta = timedelta(seconds=30)
    longest_poll: timedelta = timedelta(minutes=5)
    # Amazon's clock against ours: the listing's window is widened by this on both sides.
    margin: timedelta = timedelta(seconds=30)
    # Amazon lists a feed it created within this; an empty window older than this is proof.
    settle: timedelta = timedelta(minutes=2)
    # More than one unknown feed in the window: looked at again after this (a person decides).
    undecided_wait: timedelta = timedelta(hours=1)
    # Another submission of the seller's marketplace and type is being created: wait this.
    queue_wait: timedelta = timedelta(seconds=30)
    # A message comes back for a later feed while it has been in at most this many created
    # feeds: after a retryable error, and after a FATAL feed (once).
    retryable_resends: int = 3
    fatal_resends: int = 1


class Outcome(StrEnum):
    CREATED = "created"  # createFeed answered: the feed is followed from now on
    FOUND = "found"  # a lost answer's feed was found on Amazon and adopted
    NOT_CREATED = "not_created"  # proven absent: its messages go in a later feed
    UNKNOWN = "unknown"  # createFeed's answer was lost: resolved from the listing later
    UNDECIDED = "undecided"  # more than one unknown feed in the window: a person looks
    WAITING = "waiting"  # not now: Amazon busy, still processing, or the window not settled
    REFUSED = "refused"  # createFeed refused for good: its messages failed
    DONE = "done"  # the report was applied
    FATAL = "fatal"  # Amazon's processing ended FATAL or CANCELLED
    SKIPPED = "skipped"  # finished, or another live worker holds it
    LEASE_LOST = "lease_lost"  # another worker took it over meanwhile


@dataclass(frozen=True, slots=True)
class AdvanceResult:
    submission_id: int
    outcome: Outcome
    detail: str | None = None
    retry_in: timedelta | None = None  # when the submission is due again, if it is


@dataclass(frozen=True, slots=True)
class _Step:
    """One run of ``advance``: the claimed submission and what it needs."""

    store: SubmissionStore
    amazon: FeedGateway
    owner: str
    clock: Clock
    policy: FeedPolicy
    explain: Explain | None = None

    def release(
        self, submission: Submission, outcome: Outcome, retry_in: timedelta, error: str = ""
    ) -> AdvanceResult:
        if not self.store.release_submission(submission.id, self.owner, retry_in, error):
            return AdvanceResult(submission.id, Outcome.LEASE_LOST)
        return AdvanceResult(submission.id, outcome, error or None, retry_in)

    def backoff(self, submission: Submission) -> timedelta:
        """After a failed upload or read: doubling with each attempt, up to ``longest_wait``."""
        doublings: int = min(max(submission.attempts - 1, 0), 20)
        wait: timedelta = self.policy.failure_wait * (1 << doublings)
        return min(wait, self.policy.longest_wait)


def advance(
    submission_id: int,
    *,
    store: SubmissionStore,
    amazon: FeedGateway,
    owner: str,
    lease: timedelta,
    clock: Clock,
    policy: FeedPolicy | None = None,
    explain: Explain | None = None,
) -> AdvanceResult:
    """Move one submission on as far as it can go now (built -> uploaded -> created in one
    run; then one poll per run, and the report once processing is done). Safe to run twice and
    at once: only the lease holder acts, and every record is fenced by the lease."""
    submission = store.claim_submission(submission_id, owner, lease)
    if submission is None:
        return AdvanceResult(submission_id, Outcome.SKIPPED)
    step = _Step(store, amazon, owner, clock, policy or FeedPolicy(), explain)
    try:
        return _advance(step, submission)
    except LeaseLost as exc:  # the gateway's check before a call: nothing was sent
        return AdvanceResult(submission_id, Outcome.LEASE_LOST, str(exc))


def _advance(step: _Step, submission: Submission) -> AdvanceResult:
    state = submission.state
    if state is SubmissionState.BUILT:
        uploaded = _upload(step, submission)
        if isinstance(uploaded, AdvanceResult):
            return uploaded
        submission, state = uploaded, uploaded.state
    if state is SubmissionState.UPLOADED:
        return _create(step, submission)
    if state is SubmissionState.CREATING:
        return _resolve(step, submission)
    if state is SubmissionState.CREATED:
        return _follow(step, submission)
    return step.release(submission, Outcome.SKIPPED, timedelta(0))


def resolve_unknown(
    submission_id: int,
    *,
    store: SubmissionStore,
    amazon: FeedGateway,
    owner: str,
    lease: timedelta,
    clock: Clock,
    policy: FeedPolicy | None = None,
) -> AdvanceResult:
    """Find out what a ``creating`` submission's createFeed did, from Amazon's listing of the
    feeds of its type and marketplace created in its window: exactly one feed that is no
    submission's -> adopted; none once the window is ``settle`` old -> not created (its messages
    go in a later feed); more than one -> kept, with why, for a person (never resent)."""
    submission = store.claim_submission(submission_id, owner, lease)
    if submission is None:
        return AdvanceResult(submission_id, Outcome.SKIPPED)
    step = _Step(store, amazon, owner, clock, policy or FeedPolicy())
    if submission.state is not SubmissionState.CREATING:
        return step.release(submission, Outcome.SKIPPED, timedelta(0))
    try:
        return _resolve(step, submission)
    except LeaseLost as exc:
        return AdvanceResult(submission_id, Outcome.LEASE_LOST, str(exc))


def due_submissions(
    store: SubmissionStore,
    *,
    limit: int = 100,
    resend_after: timedelta = timedelta(minutes=5),
    lost_before: datetime | None = None,
) -> list[int]:
    """The submissions the sweeper should ``advance`` now (each once per ``resend_after``);
    after the broker lost its messages, also those due before ``lost_before``."""
    return store.due_submissions(limit, resend_after, lost_before)


# --- the steps ---------------------------------------------------------------------------------


def _upload(step: _Step, submission: Submission) -> Submission | AdvanceResult:
    try:
        document_id = step.amazon.upload(submission.account_id, submission.document)
    except AmazonBusy as exc:
        return step.release(
            submission, Outcome.WAITING, exc.retry_after or step.policy.busy_wait, exc.reason
        )
    except FeedError as exc:
        error = f"upload failed: {exc}"
        return step.release(submission, Outcome.WAITING, step.backoff(submission), error)
    if not step.store.record_uploaded(submission.id, step.owner, document_id):
        return AdvanceResult(submission.id, Outcome.LEASE_LOST)
    return replace(submission, state=SubmissionState.UPLOADED, feed_document_id=document_id)


def _create(step: _Step, submission: Submission) -> AdvanceResult:
    store, owner = step.store, step.owner
    if not store.record_creating(submission.id, owner, step.clock.now()):
        # Another submission of this seller, marketplace and type is being created (or was
        # lost): this one waits, so that a listing never has to tell two lost answers apart.
        error = "waiting: another feed of this seller, marketplace and type is being created"
        return step.release(submission, Outcome.WAITING, step.policy.queue_wait, error)
    document_id = submission.feed_document_id
    if document_id is None:
        raise AssertionError(f"submission {submission.id} is uploaded without a document id")
    try:
        feed_id = step.amazon.create(
            submission.account_id, submission.feed_type, submission.marketplace_id, document_id
        )
    except AmazonBusy as exc:
        wait = exc.retry_after or step.policy.busy_wait
        if not store.record_not_taken(submission.id, owner, wait, exc.reason):
            return AdvanceResult(submission.id, Outcome.LEASE_LOST)
        return AdvanceResult(submission.id, Outcome.WAITING, exc.reason, wait)
    except FeedRefused as exc:
        if not store.record_refused(submission.id, owner, exc.code, exc.message):
            return AdvanceResult(submission.id, Outcome.LEASE_LOST)
        return AdvanceResult(submission.id, Outcome.REFUSED, str(exc))
    except OutcomeUnknown as exc:
        if not store.record_create_window_end(submission.id, owner, step.clock.now()):
            return AdvanceResult(submission.id, Outcome.LEASE_LOST)
        error = f"createFeed's answer was lost: {exc}"
        return step.release(submission, Outcome.UNKNOWN, step.policy.settle, error)
    if not store.record_created(submission.id, owner, feed_id, step.clock.now()):
        # Taken over: the new holder finds this feed in Amazon's listing.
        return AdvanceResult(submission.id, Outcome.LEASE_LOST)
    result = step.release(submission, Outcome.CREATED, step.policy.first_poll)
    return AdvanceResult(submission.id, result.outcome, feed_id, result.retry_in)


def _evidence(
    asked_at: datetime,
    since: datetime,
    until: datetime,
    listed: tuple[ListedFeed, ...],
    known: frozenset[str],
    decision: str,
) -> str:
    return json.dumps(
        {
            "asked_at": format_utc(asked_at),
            "window": [format_utc(since), format_utc(until)],
            "listed": [
                {
                    "feed_id": feed.amazon_feed_id,
                    "created_at": format_utc(feed.created_at),
                    "status": feed.processing_status,
                    "ours": feed.amazon_feed_id in known,
                }
                for feed in listed
            ],
            "decision": decision,
        },
        sort_keys=True,
    )


def _resolve(step: _Step, submission: Submission) -> AdvanceResult:
    store, owner, policy = step.store, step.owner, step.policy
    now = step.clock.now()
    ended = submission.create_ended_at
    if ended is None:
        # The worker that sent createFeed died before it heard back (or before it sent it):
        # whatever Amazon made of it was made before now.
        ended = now
        if not store.record_create_window_end(submission.id, owner, ended):
            return AdvanceResult(submission.id, Outcome.LEASE_LOST)
    started = submission.create_started_at or submission.created_at
    since, until = started - policy.margin, ended + policy.margin
    try:
        listed = step.amazon.listed(
            submission.account_id, submission.feed_type, submission.marketplace_id, since, until
        )
    except AmazonBusy as exc:
        wait = exc.retry_after or policy.busy_wait
        return step.release(submission, Outcome.WAITING, wait, f"getFeeds: {exc.reason}")
    except FeedError as exc:
        return step.release(submission, Outcome.WAITING, step.backoff(submission), str(exc))
    in_window = tuple(
        feed
        for feed in listed
        if feed.feed_type == submission.feed_type.value and since <= feed.created_at <= until
    )
    ids = [feed.amazon_feed_id for feed in in_window]
    known = store.known_feed_ids(submission.account_id, ids)
    unknown = [feed for feed in in_window if feed.amazon_feed_id not in known]
    if len(unknown) == 1:
        (found,) = unknown
        evidence = _evidence(now, since, until, in_window, known, f"adopted {found.amazon_feed_id}")
        if not store.record_found(submission.id, owner, found.amazon_feed_id, evidence):
            return AdvanceResult(submission.id, Outcome.LEASE_LOST)
        result = step.release(submission, Outcome.FOUND, policy.first_poll)
        return AdvanceResult(submission.id, result.outcome, found.amazon_feed_id, result.retry_in)
    if len(unknown) > 1:
        names = ", ".join(feed.amazon_feed_id for feed in unknown)
        decision = (
            f"undecided: {len(unknown)} feeds no submission knows ({names}); a person decides"
        )
        evidence = _evidence(now, since, until, in_window, known, decision)
        if not store.record_undecided(submission.id, owner, evidence, policy.undecided_wait):
            return AdvanceResult(submission.id, Outcome.LEASE_LOST)
        return AdvanceResult(submission.id, Outcome.UNDECIDED, decision, policy.undecided_wait)
    settled_at = ended + policy.settle
    if now < settled_at:
        wait = settled_at - now
        decision = f"none yet: Amazon may still list one until {format_utc(settled_at)}"
        evidence = _evidence(now, since, until, in_window, known, decision)
        if not store.record_undecided(submission.id, owner, evidence, wait):
            return AdvanceResult(submission.id, Outcome.LEASE_LOST)
        return AdvanceResult(submission.id, Outcome.WAITING, decision, wait)
    decision = "not created: no feed in the window, which is older than Amazon's listing delay"
    evidence = _evidence(now, since, until, in_window, known, decision)
    if not store.record_not_created(submission.id, owner, evidence):
        return AdvanceResult(submission.id, Outcome.LEASE_LOST)
    return AdvanceResult(submission.id, Outcome.NOT_CREATED, decision)


def _poll_wait(step: _Step, submission: Submission) -> timedelta:
    """A quarter of the feed's age, between ``first_poll`` and ``longest_poll``."""
    since = submission.create_ended_at or submission.created_at
    age = step.clock.now() - since
    return max(step.policy.first_poll, min(age / 4, step.policy.longest_poll))


def _follow(step: _Step, submission: Submission) -> AdvanceResult:
    store, owner, policy = step.store, step.owner, step.policy
    feed_id = submission.amazon_feed_id
    assert feed_id is not None, "a created submission has Amazon's feed id"
    try:
        status = step.amazon.status(submission.account_id, feed_id)
    except AmazonBusy as exc:
        wait = exc.retry_after or policy.busy_wait
        return step.release(submission, Outcome.WAITING, wait, f"getFeed: {exc.reason}")
    except FeedError as exc:
        error = f"getFeed failed: {exc}"
        return step.release(submission, Outcome.WAITING, step.backoff(submission), error)
    if not store.record_status(submission.id, owner, status):
        return AdvanceResult(submission.id, Outcome.LEASE_LOST)
    if not status.finished:
        return step.release(submission, Outcome.WAITING, _poll_wait(step, submission))
    if status.processing_status != "DONE":
        reason = f"Amazon's processing of feed {feed_id} ended {status.processing_status}"
        if not store.record_fatal(submission.id, owner, status, reason, policy.fatal_resends):
            return AdvanceResult(submission.id, Outcome.LEASE_LOST)
        return AdvanceResult(submission.id, Outcome.FATAL, reason)
    if status.result_document_id is None:
        error = f"feed {feed_id} is DONE but names no processing report yet"
        return step.release(submission, Outcome.WAITING, step.backoff(submission), error)
    try:
        data, report = step.amazon.report(submission.account_id, status.result_document_id)
    except AmazonBusy as exc:
        wait = exc.retry_after or policy.busy_wait
        return step.release(submission, Outcome.WAITING, wait, f"report: {exc.reason}")
    except FeedError as exc:
        error = f"the report could not be read: {exc}"
        return step.release(submission, Outcome.WAITING, step.backoff(submission), error)
    reading = read_report(submission.message_ids, report)
    outcomes = reading.outcomes
    if step.explain is not None and any(o.verdict is Verdict.FAILED for o in outcomes):
        outcomes = tuple(step.explain(submission, outcomes))
    recorded = store.record_report(submission.id, owner, data, outcomes, policy.retryable_resends)
    if not recorded:
        return AdvanceResult(submission.id, Outcome.LEASE_LOST)
    counts = {verdict: 0 for verdict in Verdict}
    for outcome in outcomes:
        counts[outcome.verdict] += 1
    detail = ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
    if reading.strangers:
        detail += f"; results for messages it does not carry: {list(reading.strangers)}"
    return AdvanceResult(submission.id, Outcome.DONE, detail)
