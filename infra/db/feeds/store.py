"""The submission store on PostgreSQL: ``domain.feeds.SubmissionStore`` over ``feed_submissions``.

Every record is one conditional UPDATE fenced by the lease owner, in a state the domain's
machine lets move (``transitions``), committed before the method returns; the claim is committed
before any call to Amazon. What a change does to the messages the submission carries (and their
events) happens in the same transaction, through ``FeedMessages``. Times of leases and due
dates are PostgreSQL's ``now()`` (one clock for every worker); the createFeed window's times are
the domain's, as it measured them around the call.

``record_creating`` takes a transaction-scoped advisory lock on the seller's marketplace and
feed type and refuses while another submission of theirs is ``creating``: one lost answer at a
time per listing, so that a listing never has to tell two apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Interval,
    and_,
    any_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement

from domain.feeds import FeedStatus, FeedType, MessageOutcome, Submission, SubmissionState
from infra.db.feeds import transitions as moves
from infra.db.feeds.messages import FeedMessages
from infra.db.feeds.transitions import OPEN, Move, in_states
from infra.db.tables import FeedSubmission, SellerAccount, reaches_amazon

F = FeedSubmission.metadata.tables[FeedSubmission.__tablename__]
_A = FeedSubmission.metadata.tables[SellerAccount.__tablename__]
_ERROR_LIMIT = 2000
_LOCK_CREATING = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")


def _later(value: timedelta) -> Any:
    return func.now() + bindparam("p_later", value, type_=Interval())


def _fenced(submission_id: int, owner: str, states: frozenset[SubmissionState]) -> Any:
    return and_(F.c.id == submission_id, in_states(F.c.state, states), F.c.lease_owner == owner)


def _finished() -> dict[str, Any]:
    """What a move to a final state also clears."""
    return {
        "lease_owner": None,
        "lease_until": None,
        "next_attempt_at": None,
        "finished_at": func.now(),
    }


def _error(value: str) -> str | None:
    return value[:_ERROR_LIMIT] if value else None


class SqlSubmissionStore:
    """Built with the engine and the messages the feeds carry (``RefundFeedMessages``)."""

    def __init__(self, engine: Engine, messages: FeedMessages) -> None:
        self.engine = engine
        self.messages = messages

    # -- reads -------------------------------------------------------------------------------

    def _value(self, conn: Connection, row: Any) -> Submission:
        return Submission(
            id=row.id,
            account_id=row.account_id,
            marketplace_id=row.marketplace_id,
            feed_type=FeedType(row.feed_type),
            state=SubmissionState(row.state),
            message_ids=self.messages.message_ids(conn, row.id),
            document=bytes(row.document),
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

    def submission(self, submission_id: int) -> Submission | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(F).where(F.c.id == submission_id)).first()
            return self._value(conn, row) if row is not None else None

    def evidence(self, submission_id: int) -> str | None:
        """How a lost createFeed answer was (or could not yet be) resolved."""
        with self.engine.connect() as conn:
            found = conn.execute(select(F.c.evidence).where(F.c.id == submission_id))
            return found.scalar_one_or_none()

    def known_feed_ids(self, account_id: int, amazon_feed_ids: Sequence[str]) -> frozenset[str]:
        if not amazon_feed_ids:
            return frozenset()
        ids = bindparam("p_ids", list(amazon_feed_ids), type_=ARRAY(F.c.amazon_feed_id.type))
        with self.engine.connect() as conn:
            found = conn.execute(
                select(F.c.amazon_feed_id).where(
                    F.c.account_id == account_id, F.c.amazon_feed_id == any_(ids)
                )
            ).scalars()
            return frozenset(str(feed_id) for feed_id in found)

    # -- the lease ---------------------------------------------------------------------------

    def claim_submission(
        self, submission_id: int, owner: str, lease: timedelta
    ) -> Submission | None:
        # Never a live lease, whoever asks: a copy of a message redelivered while its first
        # copy still runs has the same task id, and the owner is one attempt's token.
        free = or_(F.c.lease_until.is_(None), F.c.lease_until <= func.now())
        with self.engine.begin() as conn:
            row = conn.execute(
                update(F)
                .where(F.c.id == submission_id, in_states(F.c.state, OPEN), free)
                .values(
                    attempts=F.c.attempts + 1,
                    lease_owner=owner,
                    lease_until=_later(lease),
                    next_attempt_at=None,  # due as soon as the lease runs out, if it dies
                    updated_at=func.now(),
                )
                .returning(*F.c)
            ).first()
            return self._value(conn, row) if row is not None else None

    def renew_submission(self, submission_id: int, owner: str, lease: timedelta) -> bool:
        return self._set(submission_id, owner, OPEN, lease_until=_later(lease))

    def let_go_submission(self, submission_id: int, owner: str) -> bool:
        return self._set(submission_id, owner, OPEN, lease_until=func.now())

    def release_submission(
        self, submission_id: int, owner: str, retry_in: timedelta, error: str
    ) -> bool:
        with self.engine.begin() as conn:
            return self._release(conn, submission_id, owner, OPEN, retry_in, error)

    def _release(
        self,
        conn: Connection,
        submission_id: int,
        owner: str,
        states: frozenset[SubmissionState],
        retry_in: timedelta,
        error: str,
        **values: Any,
    ) -> bool:
        done = conn.execute(
            update(F)
            .where(_fenced(submission_id, owner, states))
            .values(
                lease_owner=None,
                lease_until=None,
                next_attempt_at=_later(retry_in),
                last_error=_error(error),
                updated_at=func.now(),
                **values,
            )
            .returning(F.c.id)
        ).first()
        return done is not None

    def _move(
        self, conn: Connection, submission_id: int, owner: str, move: Move, **values: Any
    ) -> bool:
        """One fenced state change; a final state also gives the lease up."""
        extra = _finished() if move.target not in OPEN else {}
        done = conn.execute(
            update(F)
            .where(_fenced(submission_id, owner, move.sources))
            .values(state=move.target.value, updated_at=func.now(), **extra, **values)
            .returning(F.c.id)
        ).first()
        return done is not None

    def _set(
        self,
        submission_id: int,
        owner: str,
        states: frozenset[SubmissionState],
        **values: Any,
    ) -> bool:
        """Columns written under the lease, the state unchanged."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(F)
                .where(_fenced(submission_id, owner, states))
                .values(updated_at=func.now(), **values)
                .returning(F.c.id)
            ).first()
        return done is not None

    # -- the steps ---------------------------------------------------------------------------

    def record_uploaded(self, submission_id: int, owner: str, feed_document_id: str) -> bool:
        with self.engine.begin() as conn:
            return self._move(
                conn, submission_id, owner, moves.UPLOAD, feed_document_id=feed_document_id
            )

    def record_creating(self, submission_id: int, owner: str, started_at: datetime) -> bool:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(F.c.account_id, F.c.marketplace_id, F.c.feed_type).where(
                    F.c.id == submission_id
                )
            ).first()
            if row is None:
                return False
            key = f"feeds:creating:{row.account_id}:{row.marketplace_id}:{row.feed_type}"
            conn.execute(_LOCK_CREATING, {"k": key})
            other = F.alias("other")
            busy = exists().where(
                other.c.account_id == row.account_id,
                other.c.marketplace_id == row.marketplace_id,
                other.c.feed_type == row.feed_type,
                other.c.state == SubmissionState.CREATING.value,
                other.c.id != submission_id,
            )
            done = conn.execute(
                update(F)
                .where(_fenced(submission_id, owner, moves.CREATING.sources), ~busy)
                .values(
                    state=moves.CREATING.target.value,
                    create_started_at=started_at,
                    create_ended_at=None,
                    updated_at=func.now(),
                )
                .returning(F.c.id)
            ).first()
        return done is not None

    def record_created(
        self, submission_id: int, owner: str, amazon_feed_id: str, ended_at: datetime | None
    ) -> bool:
        with self.engine.begin() as conn:
            if not self._move(
                conn,
                submission_id,
                owner,
                moves.CREATED,
                amazon_feed_id=amazon_feed_id,
                create_ended_at=ended_at,
                last_error=None,
            ):
                return False
            self.messages.created(conn, submission_id)
        return True

    def record_create_window_end(self, submission_id: int, owner: str, ended_at: datetime) -> bool:
        creating = frozenset({SubmissionState.CREATING})
        return self._set(submission_id, owner, creating, create_ended_at=ended_at)

    def record_not_taken(
        self, submission_id: int, owner: str, retry_in: timedelta, error: str
    ) -> bool:
        with self.engine.begin() as conn:
            return self._release(
                conn,
                submission_id,
                owner,
                moves.NOT_TAKEN.sources,
                retry_in,
                error,
                state=moves.NOT_TAKEN.target.value,
                create_started_at=None,
                create_ended_at=None,
            )

    def record_refused(self, submission_id: int, owner: str, code: str, message: str) -> bool:
        reason = f"createFeed refused: {code}: {message}"
        with self.engine.begin() as conn:
            if not self._move(
                conn,
                submission_id,
                owner,
                moves.REFUSED,
                evidence=reason,
                last_error=_error(reason),
            ):
                return False
            self.messages.refused(conn, submission_id, code, message)
        return True

    def record_found(
        self, submission_id: int, owner: str, amazon_feed_id: str, evidence: str
    ) -> bool:
        with self.engine.begin() as conn:
            if not self._move(
                conn,
                submission_id,
                owner,
                moves.FOUND,
                amazon_feed_id=amazon_feed_id,
                evidence=evidence,
                last_error=None,
            ):
                return False
            self.messages.created(conn, submission_id)
        return True

    def record_undecided(
        self, submission_id: int, owner: str, evidence: str, retry_in: timedelta
    ) -> bool:
        creating = frozenset({SubmissionState.CREATING})
        error = "createFeed's answer is not resolved yet (see the evidence)"
        with self.engine.begin() as conn:
            return self._release(
                conn, submission_id, owner, creating, retry_in, error, evidence=evidence
            )

    def record_not_created(self, submission_id: int, owner: str, evidence: str) -> bool:
        with self.engine.begin() as conn:
            if not self._move(conn, submission_id, owner, moves.NOT_CREATED, evidence=evidence):
                return False
            self.messages.sendable_again(conn, submission_id)
        return True

    def record_status(self, submission_id: int, owner: str, status: FeedStatus) -> bool:
        created = frozenset({SubmissionState.CREATED})
        return self._set(
            submission_id,
            owner,
            created,
            processing_status=status.processing_status,
            result_document_id=status.result_document_id,
        )

    def record_report(
        self,
        submission_id: int,
        owner: str,
        report: bytes,
        outcomes: Sequence[MessageOutcome],
        resend_up_to: int,
    ) -> bool:
        with self.engine.begin() as conn:
            if not self._move(
                conn, submission_id, owner, moves.DONE, report=report, last_error=None
            ):
                return False
            self.messages.settle(conn, submission_id, outcomes, resend_up_to)
        return True

    def record_fatal(
        self, submission_id: int, owner: str, status: FeedStatus, reason: str, resend_up_to: int
    ) -> bool:
        with self.engine.begin() as conn:
            if not self._move(
                conn,
                submission_id,
                owner,
                moves.FATAL,
                processing_status=status.processing_status,
                result_document_id=status.result_document_id,
                last_error=_error(reason),
            ):
                return False
            self.messages.fatal(conn, submission_id, reason, resend_up_to)
        return True

    # -- the sweeper's pick ------------------------------------------------------------------

    def due_submissions(
        self, limit: int, resend_after: timedelta, lost_before: datetime | None = None
    ) -> list[int]:
        connected = select(_A.c.id).where(reaches_amazon(_A))
        due: ColumnElement[bool] = or_(
            F.c.next_attempt_at.is_(None),
            F.c.next_attempt_at <= func.now(),
            *([F.c.next_attempt_at < lost_before] if lost_before is not None else []),
        )
        free = or_(F.c.lease_until.is_(None), F.c.lease_until <= func.now())
        with self.engine.begin() as conn:
            picked = (
                select(F.c.id)
                .where(
                    in_states(F.c.state, OPEN),
                    due,
                    free,
                    F.c.account_id.in_(connected.scalar_subquery()),
                )
                .order_by(func.coalesce(F.c.next_attempt_at, F.c.created_at), F.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .cte("picked")
            )
            ids = conn.execute(
                update(F)
                .where(F.c.id == picked.c.id)
                .values(next_attempt_at=_later(resend_after))
                .returning(F.c.id)
            ).scalars()
            return sorted(int(i) for i in ids)
