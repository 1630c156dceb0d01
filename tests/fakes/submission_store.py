"""The SubmissionStore port's fake, on ``FakeSendingStore``'s rows: the SQL store's rules in memory
(a claim under a lease, every record fenced by the lease owner and checked against the
submission's machine, one submission of a seller's marketplace and type ``creating`` at a
time, a report applied to the messages still in the submission, in one unit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.feeds import (
    TRANSITIONS,
    AdvanceResult,
    FeedStatus,
    MessageOutcome,
    Submission,
    SubmissionState,
    Verdict,
    advance,
)
from domain.orders import AmazonOrder
from domain.refunds import Refund, RefundState, explain_failures
from domain.refunds.send import FlushPolicy, confirmed_event, failed_event, flush
from tests.fakes.clock import T0, FixedClock
from tests.fakes.feed_gateway import FakeFeeds
from tests.fakes.finances_gateway import FakeFinances
from tests.fakes.refund_sending import FakeSendingStore, IllegalMove, SubmissionRow

S = SubmissionState
OPEN = frozenset({S.BUILT, S.UPLOADED, S.CREATING, S.CREATED})


@dataclass
class FakeSubmissionStore:
    world: FakeSendingStore

    # -- helpers --------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.world.clock.now()

    def _held(self, submission_id: int, owner: str) -> SubmissionRow | None:
        row = self.world.submissions.get(submission_id)
        if row is None or row.lease_owner != owner:
            return None
        return row

    def _move(self, row: SubmissionRow, target: SubmissionState) -> None:
        if target not in TRANSITIONS[row.state]:
            raise IllegalMove(f"submission {row.id}: {row.state} -> {target}")
        row.state = target
        if not TRANSITIONS[target]:
            row.finished_at = self._now()
            row.lease_owner = row.lease_until = row.next_attempt_at = None

    def messages(self, submission_id: int) -> list[Refund]:
        return sorted(
            (
                r
                for r in self.world.refunds.values()
                if r.submission_id == submission_id and r.state is RefundState.IN_FEED
            ),
            key=lambda r: r.id,
        )

    def message_ids(self, submission_id: int) -> tuple[int, ...]:
        return tuple(
            sorted(r.id for r in self.world.refunds.values() if r.submission_id == submission_id)
        )

    def _value(self, row: SubmissionRow) -> Submission:
        return Submission(
            id=row.id,
            account_id=row.account_id,
            marketplace_id=row.marketplace_id,
            feed_type=row.feed_type,
            state=row.state,
            message_ids=self.message_ids(row.id),
            document=row.document,
            created_at=row.created_at,
            feed_document_id=row.feed_document_id,
            amazon_feed_id=row.amazon_feed_id,
            create_started_at=row.create_started_at,
            create_ended_at=row.create_ended_at,
            processing_status=row.processing_status,
            result_document_id=row.result_document_id,
            attempts=row.attempts,
            last_error=row.last_error,
        )

    def _fail(self, refund: Refund, code: str, message: str) -> None:
        failed = self.world.move(
            refund.id, RefundState.FAILED, failure_code=code, failure_reason=message
        )
        self.world.events.append(failed_event(failed, code, message))

    def _resend_or_fail(self, refund: Refund, code: str, message: str, resend_up_to: int) -> None:
        if refund.attempts <= resend_up_to:
            self.world.back_to_accepted(refund.id)
        else:
            self._fail(refund, code, message)

    # -- the port -------------------------------------------------------------------------------

    def submission(self, submission_id: int) -> Submission | None:
        row = self.world.submissions.get(submission_id)
        return self._value(row) if row is not None else None

    def claim_submission(
        self, submission_id: int, owner: str, lease: timedelta
    ) -> Submission | None:
        row = self.world.submissions.get(submission_id)
        if row is None or row.state not in OPEN:
            return None
        now = self._now()
        if row.lease_until is not None and row.lease_until > now:
            return None  # a live lease, whoever asks
        row.lease_owner, row.lease_until = owner, now + lease
        row.next_attempt_at = None
        row.attempts += 1
        return self._value(row)

    def renew_submission(self, submission_id: int, owner: str, lease: timedelta) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state not in OPEN:
            return False
        row.lease_until = self._now() + lease
        return True

    def let_go_submission(self, submission_id: int, owner: str) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state not in OPEN:
            return False
        row.lease_until = self._now()
        return True

    def record_uploaded(self, submission_id: int, owner: str, feed_document_id: str) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state not in (S.BUILT, S.UPLOADED):
            return False
        self._move(row, S.UPLOADED)
        row.feed_document_id = feed_document_id
        return True

    def record_creating(self, submission_id: int, owner: str, started_at: datetime) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.UPLOADED:
            return False
        for other in self.world.submissions.values():
            same = (other.account_id, other.marketplace_id, other.feed_type) == (
                row.account_id,
                row.marketplace_id,
                row.feed_type,
            )
            if same and other.id != row.id and other.state is S.CREATING:
                return False
        self._move(row, S.CREATING)
        row.create_started_at, row.create_ended_at = started_at, None
        return True

    def _created(self, row: SubmissionRow, amazon_feed_id: str) -> None:
        self._move(row, S.CREATED)
        row.amazon_feed_id = amazon_feed_id
        for refund in self.messages(row.id):
            self.world.refunds[refund.id] = replace(refund, attempts=refund.attempts + 1)

    def record_created(
        self, submission_id: int, owner: str, amazon_feed_id: str, ended_at: datetime | None
    ) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATING:
            return False
        with self.world.transaction():
            self._created(row, amazon_feed_id)
            row.create_ended_at = ended_at
        return True

    def record_create_window_end(self, submission_id: int, owner: str, ended_at: datetime) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATING:
            return False
        row.create_ended_at = ended_at
        return True

    def record_not_created(self, submission_id: int, owner: str, evidence: str) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATING:
            return False
        with self.world.transaction():
            self._move(row, S.NOT_CREATED)
            row.evidence = evidence
            for refund in self.messages(submission_id):
                self.world.back_to_accepted(refund.id)
        return True

    def record_status(self, submission_id: int, owner: str, status: FeedStatus) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATED:
            return False
        row.processing_status = status.processing_status
        row.result_document_id = status.result_document_id
        return True

    def known_feed_ids(self, account_id: int, amazon_feed_ids: Sequence[str]) -> frozenset[str]:
        ours = {
            row.amazon_feed_id
            for row in self.world.submissions.values()
            if row.account_id == account_id
        }
        return frozenset(feed_id for feed_id in amazon_feed_ids if feed_id in ours)

    def release_submission(
        self, submission_id: int, owner: str, retry_in: timedelta, error: str
    ) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state not in OPEN:
            return False
        row.lease_owner = row.lease_until = None
        row.next_attempt_at = self._now() + retry_in
        row.last_error = error or None
        return True

    def record_not_taken(
        self, submission_id: int, owner: str, retry_in: timedelta, error: str
    ) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATING:
            return False
        self._move(row, S.UPLOADED)
        row.create_started_at = row.create_ended_at = None
        return self.release_submission(submission_id, owner, retry_in, error)

    def record_refused(self, submission_id: int, owner: str, code: str, message: str) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATING:
            return False
        with self.world.transaction():
            self._move(row, S.NOT_CREATED)
            row.evidence = f"createFeed refused: {code}: {message}"
            row.last_error = row.evidence
            for refund in self.messages(submission_id):
                self._fail(refund, code, message)
        return True

    def record_found(
        self, submission_id: int, owner: str, amazon_feed_id: str, evidence: str
    ) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATING:
            return False
        with self.world.transaction():
            self._created(row, amazon_feed_id)
            row.evidence = evidence
        return True

    def record_undecided(
        self, submission_id: int, owner: str, evidence: str, retry_in: timedelta
    ) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATING:
            return False
        row.evidence = evidence
        return self.release_submission(submission_id, owner, retry_in, evidence)

    def record_report(
        self,
        submission_id: int,
        owner: str,
        report: bytes,
        outcomes: Sequence[MessageOutcome],
        resend_up_to: int,
    ) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATED:
            return False
        with self.world.transaction():
            self._move(row, S.DONE)
            row.report = report
            carried = {refund.id: refund for refund in self.messages(submission_id)}
            for outcome in outcomes:
                refund = carried.get(outcome.message_id)
                if refund is None:
                    continue
                code, text = outcome.code or "", outcome.description or ""
                if outcome.verdict is Verdict.APPLIED:
                    done = self.world.move(
                        refund.id, RefundState.CONFIRMED, confirmed_at=self._now()
                    )
                    self.world.events.append(confirmed_event(done))
                elif outcome.verdict is Verdict.FAILED:
                    self._fail(refund, code, text)
                else:
                    self._resend_or_fail(refund, code, text, resend_up_to)
        return True

    def record_fatal(
        self, submission_id: int, owner: str, status: FeedStatus, reason: str, resend_up_to: int
    ) -> bool:
        row = self._held(submission_id, owner)
        if row is None or row.state is not S.CREATED:
            return False
        with self.world.transaction():
            self._move(row, S.FATAL)
            row.processing_status = status.processing_status
            row.last_error = reason
            for refund in self.messages(submission_id):
                self._resend_or_fail(refund, "FeedFatal", reason, resend_up_to)
        return True

    def due_submissions(
        self, limit: int, resend_after: timedelta, lost_before: datetime | None = None
    ) -> list[int]:
        now = self._now()
        cutoff = max(now, lost_before) if lost_before is not None else now
        due = [
            row
            for row in sorted(self.world.submissions.values(), key=lambda r: r.id)
            if row.state in OPEN
            and self.world.connected.get(row.account_id, True)
            and (row.next_attempt_at is None or row.next_attempt_at <= cutoff)
            and (row.lease_until is None or row.lease_until <= now)
        ][:limit]
        for row in due:
            row.next_attempt_at = now + resend_after
        return [row.id for row in due]


# --- the whole pipeline on fakes -----------------------------------------------------------------

LEASE = timedelta(minutes=5)


@dataclass
class Pipeline:
    """Batching and submissions wired to the fakes, with one clock: what a worker runs."""

    clock: FixedClock
    world: FakeSendingStore
    store: FakeSubmissionStore
    feeds: FakeFeeds
    finances: FakeFinances
    # The batcher's policy when a test calls ``flush()`` or ``run()`` without one.
    policy: FlushPolicy | None = None

    @classmethod
    def new(cls, at: datetime = T0) -> Pipeline:
        clock = FixedClock(at)
        world = FakeSendingStore(clock)
        finances = FakeFinances()
        return cls(clock, world, FakeSubmissionStore(world), FakeFeeds(clock, finances), finances)

    def add(self, refund: Refund, order: AmazonOrder | None = None) -> Refund:
        if order is not None:
            self.world.orders[(refund.account_id, order.amazon_order_id)] = order
        return self.world.add(refund)

    def flush(self, policy: FlushPolicy | None = None, *, token: bool = True) -> list[int]:
        return flush(
            store=self.world,
            amazon=self.feeds,
            finances=self.finances,
            recorder=self.world,
            clock=self.clock,
            policy=policy or self.policy,
            token=lambda _: token,
        )

    def advance(self, submission_id: int, owner: str = "worker-1") -> AdvanceResult:
        return advance(
            submission_id,
            store=self.store,
            amazon=self.feeds,
            owner=owner,
            lease=LEASE,
            clock=self.clock,
            explain=lambda submission, outcomes: explain_failures(
                submission,
                outcomes,
                finances=self.finances,
                store=self.world,
                refund_of=self.world.refunds.get,
                clock=self.clock,
            ),
        )

    def tick(self, by: timedelta = timedelta(minutes=1)) -> None:
        self.clock.at += by

    def open_work(self) -> bool:
        accepted = any(r.state is RefundState.ACCEPTED for r in self.world.refunds.values())
        return accepted or any(row.state in OPEN for row in self.world.submissions.values())

    def run(self, rounds: int = 40, owner: str = "worker-1") -> list[AdvanceResult]:
        """What the beat and the workers do, round after round, until nothing is left to do."""
        results = []
        for _ in range(rounds):
            self.feeds.work()
            self.flush()
            for submission_id in self.store.due_submissions(100, timedelta(minutes=5)):
                results.append(self.advance(submission_id, owner))
            if not self.open_work():
                break
            self.tick()
        return results
