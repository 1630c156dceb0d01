"""Sending refunds: the batcher's reads and its transaction (``domain.refunds.RefundSendingStore``),
and the refunds as the messages of a feed submission (``RefundFeedMessages``, the submission
store's ``infra.db.feeds.FeedMessages``), moved in the submission's transaction with their
events.

A refund is taken into a batch with ``FOR UPDATE SKIP LOCKED`` and moved ``accepted ->
in_feed`` by a conditional UPDATE, in the transaction that stores the submission: two batchers
take different refunds, and a refund is in one open submission only. Every state change's
source states come from the domain's machine (``domain.refunds.TRANSITIONS``); a message only
moves while it is still ``in_feed`` in that very submission.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from domain.feeds import FeedType, MessageOutcome, SubmissionState, Verdict
from domain.refunds import TRANSITIONS, Refund, RefundKind, RefundSource, RefundState
from domain.refunds.ports import BatchKey, PendingBatch
from domain.refunds.send import confirmed_event, failed_event
from domain.shared.events import Event
from infra.db import outbox
from infra.db.feeds.transitions import in_states, sources_in
from infra.db.outbox import EventEncoder
from infra.db.refunds.base import StoreBase
from infra.db.refunds.rows import R, load, with_lines
from infra.db.tables import FeedSubmission, SellerAccount, reaches_amazon

_F = R.metadata.tables[FeedSubmission.__tablename__]
_A = R.metadata.tables[SellerAccount.__tablename__]
RS = RefundState
TAKE_FROM = sources_in(TRANSITIONS, RS.IN_FEED, {RS.ACCEPTED})
CONFIRM_FROM = sources_in(TRANSITIONS, RS.CONFIRMED, {RS.IN_FEED})
FAIL_FROM = sources_in(TRANSITIONS, RS.FAILED, {RS.IN_FEED})
RESEND_FROM = sources_in(TRANSITIONS, RS.ACCEPTED, {RS.IN_FEED})
FATAL_CODE = "FeedFatal"
_TEXT_LIMIT = 2000
# A submission not created yet: the refunds of its key wait to go in the next one together.
_UNSENT = [
    state.value
    for state in (SubmissionState.BUILT, SubmissionState.UPLOADED, SubmissionState.CREATING)
]

# When an accepted refund became sendable: intake and every return to accepted set
# next_attempt_at; a row without one counts from its creation.
_READY = func.coalesce(R.c.next_attempt_at, R.c.created_at)
_ACK = and_(R.c.kind == RefundKind.CANCELLATION.value, R.c.whole_order.is_(True))


def _sendable() -> Any:
    """Accepted store refunds due now, of connected accounts."""
    connected = select(_A.c.id).where(reaches_amazon(_A)).scalar_subquery()
    return and_(
        in_states(R.c.state, TAKE_FROM),
        R.c.source == RefundSource.STORE.value,
        func.now() >= _READY,
        R.c.account_id.in_(connected),
    )


def _of_key(key: BatchKey) -> Any:
    ack = key.feed_type is FeedType.ACKNOWLEDGEMENT
    return and_(
        R.c.account_id == key.account_id,
        R.c.marketplace_id == key.marketplace_id,
        _ACK if ack else ~_ACK,
    )


def _ids(values: Collection[int]) -> Any:
    return bindparam("p_ids", list(values), type_=ARRAY(BigInteger()))


class SqlRefundBatchUnit:
    """``domain.refunds.ports.RefundBatchUnit``: one transaction of the batcher."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def take(self, key: BatchKey, refund_ids: Sequence[int]) -> list[Refund]:
        if not refund_ids:
            return []
        rows = self.conn.execute(
            select(R)
            .where(R.c.id == any_(_ids(refund_ids)), _sendable(), _of_key(key))
            .order_by(R.c.id)
            .with_for_update(of=R, skip_locked=True)
        ).all()
        return with_lines(self.conn, rows)

    def add_submission(self, key: BatchKey, document: bytes, refunds: Sequence[Refund]) -> int:
        submission_id = self.conn.execute(
            insert(_F)
            .values(
                account_id=key.account_id,
                marketplace_id=key.marketplace_id,
                feed_type=key.feed_type.value,
                state=SubmissionState.BUILT.value,
                document=document,
                message_count=len(refunds),
                next_attempt_at=func.now(),
            )
            .returning(_F.c.id)
        ).scalar_one()
        moved = self.conn.execute(
            update(R)
            .where(R.c.id == any_(_ids([r.id for r in refunds])), in_states(R.c.state, TAKE_FROM))
            .values(
                state=RS.IN_FEED.value,
                submission_id=submission_id,
                last_error=None,
                updated_at=func.now(),
            )
            .returning(R.c.id)
        ).all()
        if len(moved) != len(refunds):
            # Locked by ``take``: only a caller passing refunds it did not take gets here.
            raise AssertionError(f"{len(refunds) - len(moved)} refunds were not taken")
        return int(submission_id)


class SendingMixin(StoreBase):
    """``domain.refunds.ports.RefundSendingStore``."""

    def pending(self) -> list[PendingBatch]:
        ack = _ACK.label("ack")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    R.c.account_id,
                    R.c.marketplace_id,
                    ack,
                    func.count().label("n"),
                    (func.now() - func.min(_READY)).label("waited"),
                    func.min(R.c.id).label("first"),
                    func.bool_or(
                        exists(
                            select(_F.c.id).where(
                                _F.c.account_id == R.c.account_id,
                                _F.c.marketplace_id == R.c.marketplace_id,
                                _F.c.feed_type
                                == case(
                                    (ack, FeedType.ACKNOWLEDGEMENT.value),
                                    else_=FeedType.ADJUSTMENT.value,
                                ),
                                _F.c.state.in_(_UNSENT),
                            )
                        )
                    ).label("feed_waiting"),
                )
                .where(_sendable())
                .group_by(R.c.account_id, R.c.marketplace_id, ack)
                .order_by("first")
            ).all()
        return [
            PendingBatch(
                BatchKey(
                    row.account_id,
                    row.marketplace_id,
                    FeedType.ACKNOWLEDGEMENT if row.ack else FeedType.ADJUSTMENT,
                ),
                int(row.n),
                row.waited,
                feed_waiting=bool(row.feed_waiting),
            )
            for row in rows
        ]

    def candidates(self, key: BatchKey, limit: int, skip: Collection[int] = ()) -> list[Refund]:
        query = select(R).where(_sendable(), _of_key(key))
        if skip:
            query = query.where(R.c.id != func.all(_ids(skip)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(_READY, R.c.id).limit(limit)).all()
            return with_lines(conn, rows)

    @contextmanager
    def batch(self) -> Iterator[SqlRefundBatchUnit]:
        with self.engine.begin() as conn:
            yield SqlRefundBatchUnit(conn)


# --- the refunds as a submission's messages ------------------------------------------------------


def _in_submission(submission_id: int, states: frozenset[RefundState]) -> Any:
    return and_(R.c.submission_id == submission_id, in_states(R.c.state, states))


def _failed_values(code: Any, text: Any) -> dict[str, Any]:
    return {
        "state": RS.FAILED.value,
        "failure_code": code,
        "failure_reason": text,
        "last_error": text,
        "next_attempt_at": None,
        "failed_at": func.now(),
        "updated_at": func.now(),
    }


def _resend_values(text: Any) -> dict[str, Any]:
    return {
        "state": RS.ACCEPTED.value,
        "submission_id": None,
        "next_attempt_at": func.now(),
        "last_error": text,
        "updated_at": func.now(),
    }


def _given(rows: Sequence[tuple[int, str, str]]) -> Any:
    """(refund id, code, text) rows as a table to UPDATE ... FROM."""
    return (
        func.unnest(
            bindparam("p_given_ids", [r[0] for r in rows], type_=ARRAY(BigInteger())),
            bindparam("p_codes", [r[1][:100] for r in rows], type_=ARRAY(String())),
            bindparam("p_texts", [r[2][:_TEXT_LIMIT] for r in rows], type_=ARRAY(Text())),
        )
        .table_valued("id", "code", "text")
        .render_derived()
    )


class RefundFeedMessages:
    """``infra.db.feeds.FeedMessages`` for refunds and cancellations: their states and events
    as their submission moves. Built with the encoder of their events."""

    def __init__(self, encode: EventEncoder) -> None:
        self.encode = encode

    def _append(self, conn: Connection, events: Sequence[Event]) -> None:
        outbox.append(conn, events, self.encode)

    def message_ids(self, conn: Connection, submission_id: int) -> tuple[int, ...]:
        found = conn.execute(
            select(R.c.id).where(R.c.submission_id == submission_id).order_by(R.c.id)
        ).scalars()
        return tuple(int(i) for i in found)

    def created(self, conn: Connection, submission_id: int) -> None:
        conn.execute(
            update(R)
            .where(_in_submission(submission_id, frozenset({RS.IN_FEED})))
            .values(attempts=R.c.attempts + 1, updated_at=func.now())
        )

    def sendable_again(self, conn: Connection, submission_id: int) -> int:
        note = f"feed submission {submission_id} was not created: sent again in a later feed"
        moved = conn.execute(
            update(R)
            .where(_in_submission(submission_id, RESEND_FROM))
            .values(**_resend_values(note))
            .returning(R.c.id)
        ).all()
        return len(moved)

    def refused(self, conn: Connection, submission_id: int, code: str, message: str) -> int:
        failed = conn.execute(
            update(R)
            .where(_in_submission(submission_id, FAIL_FROM))
            .values(**_failed_values(code[:100], message[:_TEXT_LIMIT]))
            .returning(R.c.id)
        ).scalars()
        refunds = load(conn, [int(i) for i in failed])
        self._append(conn, [failed_event(r, code, message) for r in refunds])
        return len(refunds)

    def _fail_each(
        self, conn: Connection, submission_id: int, failing: Sequence[tuple[int, str, str]]
    ) -> list[Event]:
        """Each (refund, code, text) failed, in one statement; their events."""
        if not failing:
            return []
        given = _given(failing)
        failed = conn.execute(
            update(R)
            .where(R.c.id == given.c.id, _in_submission(submission_id, FAIL_FROM))
            .values(**_failed_values(given.c.code, given.c.text))
            .returning(R.c.id)
        ).scalars()
        done = sorted(int(i) for i in failed)
        reasons = {refund_id: (code, text) for refund_id, code, text in failing}
        return [failed_event(refund, *reasons[refund.id]) for refund in load(conn, done)]

    def _resend_or_fail(
        self,
        conn: Connection,
        submission_id: int,
        retrying: Sequence[tuple[int, str, str]],
        resend_up_to: int,
    ) -> list[Event]:
        """Sent again while in at most ``resend_up_to`` created feeds (the reason kept as its
        last error); failed after that."""
        if not retrying:
            return []
        given = _given(retrying)
        resent = conn.execute(
            update(R)
            .where(
                R.c.id == given.c.id,
                _in_submission(submission_id, RESEND_FROM),
                R.c.attempts <= resend_up_to,
            )
            .values(**_resend_values(given.c.code.concat(": ").concat(given.c.text)))
            .returning(R.c.id)
        ).scalars()
        back = {int(i) for i in resent}
        return self._fail_each(conn, submission_id, [r for r in retrying if r[0] not in back])

    def settle(
        self,
        conn: Connection,
        submission_id: int,
        outcomes: Sequence[MessageOutcome],
        resend_up_to: int,
    ) -> int:
        applied = [o.message_id for o in outcomes if o.verdict is Verdict.APPLIED]
        events: list[Event] = []
        if applied:
            confirmed = conn.execute(
                update(R)
                .where(R.c.id == any_(_ids(applied)), _in_submission(submission_id, CONFIRM_FROM))
                .values(
                    state=RS.CONFIRMED.value,
                    confirmed_at=func.now(),
                    next_attempt_at=None,
                    last_error=None,
                    updated_at=func.now(),
                )
                .returning(R.c.id)
            ).scalars()
            events += [confirmed_event(r) for r in load(conn, sorted(int(i) for i in confirmed))]
        failing = [
            (o.message_id, o.code or "", o.description or "")
            for o in outcomes
            if o.verdict is Verdict.FAILED
        ]
        events += self._fail_each(conn, submission_id, failing)
        retrying = [
            (o.message_id, o.code or "", o.description or "")
            for o in outcomes
            if o.verdict is Verdict.RETRY
        ]
        events += self._resend_or_fail(conn, submission_id, retrying, resend_up_to)
        self._append(conn, events)
        return len(events)

    def fatal(self, conn: Connection, submission_id: int, reason: str, resend_up_to: int) -> int:
        carried = conn.execute(
            select(R.c.id).where(_in_submission(submission_id, RESEND_FROM))
        ).scalars()
        retrying = [(int(i), FATAL_CODE, reason) for i in carried]
        events = self._resend_or_fail(conn, submission_id, retrying, resend_up_to)
        self._append(conn, events)
        return len(retrying)
