"""The submission store on PostgreSQL: the claim and its lease, every record fenced by the lease
owner and moving only along the domain's machine, one submission of a listing ``creating`` at a
time (under a race too), the report applied to its refunds with their events in ONE
transaction (or not at all), the paths out of ``creating``, FATAL feeds, the sweeper's pick."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from domain.feeds import (
    TRANSITIONS,
    FeedStatus,
    FeedType,
    MessageOutcome,
    SubmissionState,
    Verdict,
)
from domain.orders import AmazonOrder, LineCharges
from domain.refunds import (
    Accepted,
    Component,
    IssueRefund,
    RefundConfirmed,
    RefundLineRequest,
    accept_refund,
)
from domain.refunds.ports import BatchKey
from domain.shared.events import Event
from infra.db.feeds import SqlSubmissionStore
from infra.db.feeds.transitions import MOVES, OPEN
from infra.db.refunds import SqlRefundStore
from infra.db.refunds.amazon import AmazonRefundsMixin
from infra.db.refunds.sending import RefundFeedMessages, SendingMixin
from infra.db.tables import FeedSubmission, OutboxEvent, SellerAccount
from infra.db.tables import Refund as RefundRow
from tests.fakes import FixedClock
from tests.fakes.refund_store import encode
from tests.integration.infra.db.seed import MARKETPLACE, amazon_order, seed_account, seed_order

pytestmark = pytest.mark.integration

LEASE = timedelta(minutes=5)
S = SubmissionState


class SqlSending(SendingMixin, AmazonRefundsMixin):
    """The refund store's sending parts, as the integrator composes them."""


def charged(n: int) -> AmazonOrder:
    """Order ``n`` with its first line (3 units) charged 29.97 + 4.99 shipping + 2.40 tax."""
    order = amazon_order(n)
    charges = LineCharges("USD", Decimal("29.97"), Decimal("4.99"), Decimal("2.40"))
    return replace(order, lines=(replace(order.lines[0], charges=charges), order.lines[1]))


@pytest.fixture
def account_id(clean_db: Engine, session_factory: sessionmaker[Session]) -> int:
    account_id = seed_account(session_factory)
    for n in (1, 2, 3):
        seed_order(clean_db, session_factory, account_id, charged(n))
    return account_id


@pytest.fixture
def sending(clean_db: Engine, session_factory: sessionmaker[Session]) -> SqlSending:
    return SqlSending(clean_db, session_factory, encode)


@pytest.fixture
def store(clean_db: Engine) -> SqlSubmissionStore:
    return SqlSubmissionStore(clean_db, RefundFeedMessages(encode))


def accepted(engine: Engine, sessions: sessionmaker[Session], n: int, amount: str = "5.00") -> int:
    command = IssueRefund(
        account="acme",
        amazon_order_id=amazon_order(n).amazon_order_id,
        platform_refund_id=f"R-{n}",
        reason="CustomerReturn",
        lines=(
            RefundLineRequest(
                order_item_id=f"{n:07d}-A", amounts=((Component.GOODWILL, Decimal(amount)),)
            ),
        ),
    )
    result = accept_refund(command, SqlRefundStore(engine, sessions, encode), FixedClock())
    assert isinstance(result, Accepted), result
    return result.refund.id


def submission_of(sending: SqlSending, refund_ids: list[int], account_id: int) -> int:
    key = BatchKey(account_id, MARKETPLACE, FeedType.ADJUSTMENT)
    with sending.batch() as unit:
        taken = unit.take(key, refund_ids)
        assert [r.id for r in taken] == sorted(refund_ids)
        return unit.add_submission(key, b"<AmazonEnvelope/>", taken)


@pytest.fixture
def three(
    clean_db: Engine, session_factory: sessionmaker[Session], sending: SqlSending, account_id: int
) -> tuple[int, list[int]]:
    ids = [accepted(clean_db, session_factory, n) for n in (1, 2, 3)]
    return submission_of(sending, ids, account_id), ids


def created(store: SqlSubmissionStore, submission_id: int, owner: str = "w") -> None:
    now = datetime.now(UTC)
    assert store.claim_submission(submission_id, owner, LEASE) is not None
    assert store.record_uploaded(submission_id, owner, "DOC-1")
    assert store.record_creating(submission_id, owner, now)
    assert store.record_created(submission_id, owner, f"FEED-{submission_id}", now)


def refund_rows(engine: Engine) -> dict[int, Any]:
    with engine.connect() as conn:
        return {row.id: row for row in conn.execute(select(RefundRow).order_by(RefundRow.id))}


def topics(engine: Engine) -> list[str]:
    """The refund events in the outbox (the seeded orders' are left out)."""
    with engine.connect() as conn:
        found = conn.execute(select(OutboxEvent.topic).order_by(OutboxEvent.id)).scalars()
        return [topic for topic in found if not topic.startswith("orders/")]


def submission_row(engine: Engine, submission_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(FeedSubmission).where(FeedSubmission.id == submission_id)).one()


# --- the machine ---------------------------------------------------------------------------------


def test_every_change_the_store_makes_is_one_the_domains_machine_allows() -> None:
    for move in MOVES:
        assert move.sources, move.operation
        for source, target in move.pairs():
            assert target in TRANSITIONS[source], (move.operation, source, target)
    assert {S.BUILT, S.UPLOADED, S.CREATING, S.CREATED} == OPEN


# --- the lease -----------------------------------------------------------------------------------


def test_a_claim_is_one_workers_until_its_lease_runs_out_and_a_dead_one_records_nothing(
    store: SqlSubmissionStore, three: tuple[int, list[int]], clean_db: Engine
) -> None:
    submission_id, refund_ids = three
    claimed = store.claim_submission(submission_id, "dead", LEASE)
    assert claimed is not None and claimed.state is S.BUILT and claimed.attempts == 1
    assert claimed.message_ids == tuple(refund_ids) and claimed.document == b"<AmazonEnvelope/>"
    assert store.claim_submission(submission_id, "other", LEASE) is None
    # An owner is one attempt: not even the same token enters a live lease again.
    assert store.claim_submission(submission_id, "dead", LEASE) is None
    assert store.renew_submission(submission_id, "dead", LEASE)
    assert not store.renew_submission(submission_id, "other", LEASE)
    with clean_db.begin() as conn:
        conn.execute(
            update(FeedSubmission).values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    taken = store.claim_submission(submission_id, "other", LEASE)
    assert taken is not None and taken.attempts == 2
    assert not store.renew_submission(submission_id, "dead", LEASE)  # its check fails
    assert not store.let_go_submission(submission_id, "dead")
    assert not store.record_uploaded(submission_id, "dead", "DOC-X")
    assert not store.release_submission(submission_id, "dead", timedelta(0), "")
    assert store.record_uploaded(submission_id, "other", "DOC-1")
    assert submission_row(clean_db, submission_id).feed_document_id == "DOC-1"


def test_an_attempt_that_lets_go_frees_the_submission_for_the_sweep_at_once(
    store: SqlSubmissionStore, three: tuple[int, list[int]]
) -> None:
    submission_id, _ = three
    assert store.due_submissions(10, timedelta(minutes=5)) == [submission_id]  # pushed on
    assert store.claim_submission(submission_id, "attempt-1", LEASE) is not None
    assert store.due_submissions(10, timedelta(minutes=5)) == []  # its lease is live
    assert store.let_go_submission(submission_id, "attempt-1")
    # The claim cleared the sweep's push: due the moment the lease is gone, not 5 min later.
    assert store.due_submissions(10, timedelta(minutes=5)) == [submission_id]
    assert store.claim_submission(submission_id, "attempt-2", LEASE) is not None


def test_a_finished_submission_cannot_be_claimed(
    store: SqlSubmissionStore, three: tuple[int, list[int]]
) -> None:
    submission_id, _ = three
    created(store, submission_id)
    assert store.record_report(submission_id, "w", b"report", [], 3)
    assert store.claim_submission(submission_id, "w", LEASE) is None
    done = store.submission(submission_id)
    assert done is not None and done.state is S.DONE


# --- creating ------------------------------------------------------------------------------------


def test_one_submission_of_a_listing_is_creating_at_a_time(
    store: SqlSubmissionStore,
    sending: SqlSending,
    clean_db: Engine,
    session_factory: sessionmaker[Session],
    account_id: int,
) -> None:
    first = submission_of(sending, [accepted(clean_db, session_factory, 1)], account_id)
    second = submission_of(sending, [accepted(clean_db, session_factory, 2)], account_id)
    now = datetime.now(UTC)
    for submission_id in (first, second):
        assert store.claim_submission(submission_id, "w", LEASE) is not None
        assert store.record_uploaded(submission_id, "w", "DOC")
    assert store.record_creating(first, "w", now)
    assert not store.record_creating(second, "w", now)
    assert store.record_created(first, "w", "FEED-1", now)
    assert store.record_creating(second, "w", now)


def test_two_workers_racing_to_create_one_listings_feeds_one_wins(
    store: SqlSubmissionStore,
    sending: SqlSending,
    clean_db: Engine,
    session_factory: sessionmaker[Session],
    account_id: int,
) -> None:
    ids = [
        submission_of(sending, [accepted(clean_db, session_factory, n)], account_id)
        for n in (1, 2, 3)
    ]
    for submission_id in ids:
        assert store.claim_submission(submission_id, f"w{submission_id}", LEASE) is not None
        assert store.record_uploaded(submission_id, f"w{submission_id}", "DOC")
    won: list[int] = []
    barrier = threading.Barrier(len(ids))

    def run(submission_id: int) -> None:
        barrier.wait()
        if store.record_creating(submission_id, f"w{submission_id}", datetime.now(UTC)):
            won.append(submission_id)

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_the_ways_out_of_creating(
    store: SqlSubmissionStore, three: tuple[int, list[int]], clean_db: Engine
) -> None:
    submission_id, _ = three
    now = datetime.now(UTC)
    assert store.claim_submission(submission_id, "w", LEASE) is not None
    assert store.record_uploaded(submission_id, "w", "DOC")
    assert store.record_creating(submission_id, "w", now)
    # Amazon did not take it: back to uploaded, due later.
    assert store.record_not_taken(submission_id, "w", timedelta(minutes=2), "QuotaExceeded")
    row = submission_row(clean_db, submission_id)
    assert (row.state, row.lease_owner, row.last_error) == ("uploaded", None, "QuotaExceeded")
    assert row.create_started_at is None and row.next_attempt_at > datetime.now(UTC)
    # The answer lost: the window closed, then undecided, then proven absent.
    assert store.claim_submission(submission_id, "w", LEASE) is not None
    assert store.record_creating(submission_id, "w", now)
    assert store.record_create_window_end(submission_id, "w", now + timedelta(seconds=3))
    assert store.record_undecided(submission_id, "w", '{"decision": "none yet"}', timedelta(0))
    row = submission_row(clean_db, submission_id)
    assert (row.state, row.evidence) == ("creating", '{"decision": "none yet"}')
    assert row.create_ended_at == now + timedelta(seconds=3)
    assert store.claim_submission(submission_id, "w", LEASE) is not None
    assert store.record_not_created(submission_id, "w", '{"decision": "not created"}')
    row = submission_row(clean_db, submission_id)
    assert (row.state, row.lease_owner) == ("not_created", None) and row.finished_at is not None
    for refund in refund_rows(clean_db).values():
        assert (refund.state, refund.submission_id, refund.attempts) == ("accepted", None, 0)
        assert "not created" in refund.last_error
    assert topics(clean_db) == []


def test_a_found_feed_is_adopted_with_its_evidence_and_counts_as_created(
    store: SqlSubmissionStore, three: tuple[int, list[int]], clean_db: Engine
) -> None:
    submission_id, _ = three
    now = datetime.now(UTC)
    assert store.claim_submission(submission_id, "w", LEASE) is not None
    assert store.record_uploaded(submission_id, "w", "DOC")
    assert store.record_creating(submission_id, "w", now)
    assert store.record_found(submission_id, "w", "FEED-9", '{"decision": "adopted FEED-9"}')
    row = submission_row(clean_db, submission_id)
    assert (row.state, row.amazon_feed_id) == ("created", "FEED-9")
    assert row.evidence == '{"decision": "adopted FEED-9"}'
    assert store.known_feed_ids(1, ["FEED-9", "FEED-10"]) == {"FEED-9"}
    assert {r.attempts for r in refund_rows(clean_db).values()} == {1}


def test_a_refused_create_fails_every_refund_with_its_event(
    store: SqlSubmissionStore, three: tuple[int, list[int]], clean_db: Engine
) -> None:
    submission_id, _ = three
    assert store.claim_submission(submission_id, "w", LEASE) is not None
    assert store.record_uploaded(submission_id, "w", "DOC")
    assert store.record_creating(submission_id, "w", datetime.now(UTC))
    assert store.record_refused(submission_id, "w", "InvalidInput", "Invalid marketplace")
    for refund in refund_rows(clean_db).values():
        assert (refund.state, refund.failure_code) == ("failed", "InvalidInput")
        assert refund.failure_reason == "Invalid marketplace"
    assert topics(clean_db) == ["refunds/failed"] * 3
    assert submission_row(clean_db, submission_id).state == "not_created"


# --- the report ----------------------------------------------------------------------------------


def test_the_report_is_applied_per_message_with_its_events_in_one_transaction_once(
    store: SqlSubmissionStore, three: tuple[int, list[int]], clean_db: Engine
) -> None:
    submission_id, (a, b, c) = three
    created(store, submission_id)
    outcomes = [
        MessageOutcome(a, Verdict.APPLIED),
        MessageOutcome(b, Verdict.FAILED, "18028", "The adjustment exceeds the amount charged"),
        MessageOutcome(c, Verdict.RETRY, "5002", "Try again later"),
        MessageOutcome(999, Verdict.APPLIED),  # not this submission's: nothing moves
    ]
    assert store.record_report(submission_id, "w", b"<ProcessingReport/>", outcomes, 3)
    rows = refund_rows(clean_db)
    assert rows[a].state == "confirmed" and rows[a].confirmed_at is not None
    assert (rows[b].state, rows[b].failure_code) == ("failed", "18028")
    assert rows[b].failure_reason == "The adjustment exceeds the amount charged"
    assert (rows[c].state, rows[c].submission_id) == ("accepted", None)
    assert rows[c].last_error == "5002: Try again later" and rows[c].attempts == 1
    assert topics(clean_db) == ["refunds/confirmed", "refunds/failed"]
    row = submission_row(clean_db, submission_id)
    assert (row.state, bytes(row.report)) == ("done", b"<ProcessingReport/>")
    # Again (a second worker, a redelivery): nothing.
    assert not store.record_report(submission_id, "w", b"<ProcessingReport/>", outcomes, 3)
    assert len(topics(clean_db)) == 2


def test_a_retryable_error_past_the_last_resend_fails(
    store: SqlSubmissionStore, three: tuple[int, list[int]], clean_db: Engine
) -> None:
    submission_id, (a, _, _) = three
    created(store, submission_id)
    retry = [MessageOutcome(a, Verdict.RETRY, "5002", "Try again later")]
    assert store.record_report(submission_id, "w", b"r", retry, 0)
    assert (refund_rows(clean_db)[a].state, refund_rows(clean_db)[a].failure_code) == (
        "failed",
        "5002",
    )


def test_a_report_that_cannot_be_applied_whole_is_not_applied_at_all(
    three: tuple[int, list[int]], clean_db: Engine
) -> None:
    submission_id, (a, b, _) = three

    def refuses_confirmations(event: Event) -> tuple[str, str]:
        if isinstance(event, RefundConfirmed):
            raise RuntimeError("the encoder broke")
        return encode(event)

    store = SqlSubmissionStore(clean_db, RefundFeedMessages(refuses_confirmations))
    created(store, submission_id)
    outcomes = [MessageOutcome(a, Verdict.APPLIED), MessageOutcome(b, Verdict.FAILED, "1", "x")]
    with pytest.raises(RuntimeError):
        store.record_report(submission_id, "w", b"r", outcomes, 3)
    assert {r.state for r in refund_rows(clean_db).values()} == {"in_feed"}
    assert submission_row(clean_db, submission_id).state == "created"
    assert topics(clean_db) == []


def test_a_fatal_feed_sends_its_refunds_again_once_then_fails_them(
    store: SqlSubmissionStore,
    sending: SqlSending,
    three: tuple[int, list[int]],
    clean_db: Engine,
    account_id: int,
) -> None:
    submission_id, ids = three
    created(store, submission_id)
    fatal = FeedStatus("FATAL")
    assert store.record_fatal(submission_id, "w", fatal, "ended FATAL", 1)
    assert {r.state for r in refund_rows(clean_db).values()} == {"accepted"}
    assert submission_row(clean_db, submission_id).state == "fatal"
    again = submission_of(sending, ids, account_id)
    created(store, again)
    assert store.record_fatal(again, "w", fatal, "ended FATAL again", 1)
    for refund in refund_rows(clean_db).values():
        assert (refund.state, refund.failure_code, refund.attempts) == ("failed", "FeedFatal", 2)
        assert refund.failure_reason == "ended FATAL again"
    assert topics(clean_db) == ["refunds/failed"] * 3


def test_status_is_recorded_under_the_lease(
    store: SqlSubmissionStore, three: tuple[int, list[int]], clean_db: Engine
) -> None:
    submission_id, _ = three
    created(store, submission_id)
    assert store.record_status(submission_id, "w", FeedStatus("DONE", "RESULT-1"))
    assert not store.record_status(submission_id, "x", FeedStatus("FATAL"))
    row = submission_row(clean_db, submission_id)
    assert (row.processing_status, row.result_document_id) == ("DONE", "RESULT-1")


# --- the sweeper's pick ----------------------------------------------------------------------


def test_the_sweepers_pick_is_due_unleased_of_connected_sellers_and_pushed_on(
    store: SqlSubmissionStore,
    sending: SqlSending,
    clean_db: Engine,
    session_factory: sessionmaker[Session],
    account_id: int,
) -> None:
    free = submission_of(sending, [accepted(clean_db, session_factory, 1)], account_id)
    leased = submission_of(sending, [accepted(clean_db, session_factory, 2)], account_id)
    later = submission_of(sending, [accepted(clean_db, session_factory, 3)], account_id)
    assert store.claim_submission(leased, "w", LEASE) is not None
    assert store.claim_submission(later, "w", LEASE) is not None
    assert store.release_submission(later, "w", timedelta(hours=1), "")
    assert store.due_submissions(10, timedelta(minutes=5)) == [free]
    assert store.due_submissions(10, timedelta(minutes=5)) == []  # pushed on
    with clean_db.begin() as conn:
        conn.execute(update(FeedSubmission).values(next_attempt_at=None))
        conn.execute(update(SellerAccount).values(connected=False))
    assert store.due_submissions(10, timedelta(minutes=5)) == []
