"""A submission's life on fakes: built -> uploaded -> creating -> created -> done under a lease,
Amazon busy or refusing, a lost createFeed answer resolved from the listing (adopted, proven
absent, or left to a person), polling, the report applied per message, FATAL feeds."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from domain.feeds import (
    AmazonBusy,
    FeedPolicy,
    FeedRefused,
    FeedType,
    Outcome,
    OutcomeUnknown,
    SubmissionState,
    resolve_unknown,
)
from domain.refunds import RefundState
from tests.fakes.refund_sending import new_refund
from tests.fakes.submission_store import LEASE, Pipeline

POLICY = FeedPolicy()


@pytest.fixture
def p() -> Pipeline:
    return Pipeline.new()


def built(p: Pipeline, count: int = 2) -> int:
    for n in range(count):
        p.add(new_refund(f"113-000000{n}-0000001"))
    (submission_id,) = p.flush()
    return submission_id


def test_one_run_uploads_and_creates_the_feed_and_a_later_one_applies_the_report(
    p: Pipeline,
) -> None:
    submission_id = built(p)
    result = p.advance(submission_id)
    assert result.outcome is Outcome.CREATED and result.retry_in == POLICY.first_poll
    row = p.world.submissions[submission_id]
    assert row.state is SubmissionState.CREATED and row.amazon_feed_id == result.detail
    assert row.create_started_at == row.create_ended_at == p.clock.at
    assert p.feeds.calls == ["upload", "create"]
    p.tick(POLICY.first_poll)
    done = p.advance(submission_id)
    assert done.outcome is Outcome.DONE and done.detail == "2 applied, 0 failed, 0 retry"
    assert set(p.world.states().values()) == {RefundState.CONFIRMED}
    assert p.feeds.applied_messages() == [1, 2]
    assert p.world.topics() == ["RefundConfirmed", "RefundConfirmed"]
    assert p.world.submissions[submission_id].state is SubmissionState.DONE
    assert row.report is not None
    assert p.advance(submission_id).outcome is Outcome.SKIPPED


def test_a_live_lease_keeps_a_second_worker_out_and_a_dead_ones_lease_is_taken_over(
    p: Pipeline,
) -> None:
    submission_id = built(p)
    assert p.store.claim_submission(submission_id, "dead", LEASE) is not None
    assert p.advance(submission_id, owner="other").outcome is Outcome.SKIPPED
    assert p.feeds.calls == []
    p.tick(LEASE)
    assert p.advance(submission_id, owner="other").outcome is Outcome.CREATED
    # The dead worker, back, records nothing.
    assert not p.store.record_uploaded(submission_id, "dead", "DOC-X")
    assert not p.store.release_submission(submission_id, "dead", timedelta(0), "")


def test_amazon_busy_at_create_puts_it_back_to_uploaded_until_its_retry_after(
    p: Pipeline,
) -> None:
    submission_id = built(p)
    p.feeds.fail("create", AmazonBusy("QuotaExceeded", timedelta(minutes=2)))
    result = p.advance(submission_id)
    assert result.outcome is Outcome.WAITING and result.retry_in == timedelta(minutes=2)
    row = p.world.submissions[submission_id]
    assert row.state is SubmissionState.UPLOADED and row.last_error == "QuotaExceeded"
    assert row.next_attempt_at == p.clock.at + timedelta(minutes=2)
    assert p.store.due_submissions(10, timedelta(minutes=5)) == []
    p.tick(timedelta(minutes=2))
    assert p.store.due_submissions(10, timedelta(minutes=5)) == [submission_id]
    assert p.advance(submission_id).outcome is Outcome.CREATED
    assert p.feeds.calls == ["upload", "create", "create"]  # the document is not uploaded again


def test_a_refused_create_fails_every_message_with_amazons_code_and_text(p: Pipeline) -> None:
    submission_id = built(p)
    p.feeds.fail("create", FeedRefused("InvalidInput", "Invalid feed type"))
    result = p.advance(submission_id)
    assert result.outcome is Outcome.REFUSED
    assert p.world.submissions[submission_id].state is SubmissionState.NOT_CREATED
    for refund in p.world.refunds.values():
        assert refund.state is RefundState.FAILED
        assert (refund.failure_code, refund.failure_reason) == ("InvalidInput", "Invalid feed type")
    assert p.world.topics() == ["RefundFailed", "RefundFailed"]
    assert p.flush() == []  # nothing goes again


def test_a_lost_answer_whose_feed_exists_is_adopted_from_the_listing(p: Pipeline) -> None:
    submission_id = built(p)
    p.feeds.fail("create", OutcomeUnknown("ReadTimeout after the request was sent"), after=True)
    started = p.clock.at
    assert p.advance(submission_id).outcome is Outcome.UNKNOWN
    row = p.world.submissions[submission_id]
    assert row.state is SubmissionState.CREATING and row.create_ended_at == started
    assert row.next_attempt_at == started + POLICY.settle
    p.tick(POLICY.settle)
    found = p.advance(submission_id)
    (feed_id,) = p.feeds.feeds
    assert (found.outcome, found.detail) == (Outcome.FOUND, feed_id)
    assert p.world.submissions[submission_id].state is SubmissionState.CREATED
    assert row.amazon_feed_id == feed_id
    evidence = json.loads(row.evidence or "")
    assert evidence["decision"] == f"adopted {feed_id}"
    assert [feed["feed_id"] for feed in evidence["listed"]] == [feed_id]
    p.tick(POLICY.first_poll)
    assert p.advance(submission_id).outcome is Outcome.DONE
    assert p.feeds.applied_messages() == [1, 2]
    assert p.feeds.calls.count("create") == 1


def test_a_lost_answer_with_no_feed_waits_for_the_listing_to_settle_then_goes_in_a_new_feed(
    p: Pipeline,
) -> None:
    submission_id = built(p)
    p.feeds.fail("create", OutcomeUnknown("ConnectError"))
    assert p.advance(submission_id).outcome is Outcome.UNKNOWN
    p.tick(timedelta(seconds=30))
    early = p.advance(submission_id)
    assert early.outcome is Outcome.WAITING and early.retry_in == timedelta(seconds=90)
    assert p.world.submissions[submission_id].state is SubmissionState.CREATING
    assert p.flush() == []  # its refunds are in_feed: nothing is sent again meanwhile
    p.tick(timedelta(seconds=90))
    assert p.advance(submission_id).outcome is Outcome.NOT_CREATED
    row = p.world.submissions[submission_id]
    assert row.state is SubmissionState.NOT_CREATED
    assert json.loads(row.evidence or "")["decision"].startswith("not created")
    assert set(p.world.states().values()) == {RefundState.ACCEPTED}
    (again,) = p.flush()
    assert again != submission_id
    p.run()
    assert set(p.world.states().values()) == {RefundState.CONFIRMED}
    assert p.feeds.applied_messages() == [1, 2]


def test_more_than_one_unknown_feed_in_the_window_is_left_to_a_person_and_never_resent(
    p: Pipeline,
) -> None:
    submission_id = built(p)
    p.feeds.fail("create", OutcomeUnknown("ReadTimeout"), after=True)
    assert p.advance(submission_id).outcome is Outcome.UNKNOWN
    # Another tool of the seller's created a feed of the same type at the same moment.
    p.feeds.add_feed(7, FeedType.ADJUSTMENT, "ATVPDKIKX0DER")
    p.tick(POLICY.settle)
    result = p.advance(submission_id)
    assert result.outcome is Outcome.UNDECIDED and result.retry_in == POLICY.undecided_wait
    row = p.world.submissions[submission_id]
    assert row.state is SubmissionState.CREATING
    evidence = json.loads(row.evidence or "")
    assert evidence["decision"].startswith("undecided: 2 feeds")
    assert not any(feed["ours"] for feed in evidence["listed"])
    # A later refund of the same seller, marketplace and type waits behind it, unbatched.
    later = p.add(new_refund("113-0000009-0000001"))
    assert p.flush() == []
    assert p.world.refunds[later.id].state is RefundState.ACCEPTED
    assert p.feeds.calls.count("create") == 1


def test_a_feed_of_another_submission_in_the_window_is_not_adopted(p: Pipeline) -> None:
    first = built(p, 1)
    assert p.advance(first).outcome is Outcome.CREATED
    p.add(new_refund("113-0000005-0000001"))
    (second,) = p.flush()
    p.feeds.fail("create", OutcomeUnknown("ReadTimeout"))
    assert p.advance(second).outcome is Outcome.UNKNOWN
    p.tick(POLICY.settle)
    assert p.advance(second).outcome is Outcome.NOT_CREATED
    evidence = json.loads(p.world.submissions[second].evidence or "")
    assert [feed["ours"] for feed in evidence["listed"]] == [True]


def test_resolve_unknown_leaves_a_submission_that_is_not_creating_alone(p: Pipeline) -> None:
    submission_id = built(p)
    kwargs = {"store": p.store, "amazon": p.feeds, "lease": LEASE, "clock": p.clock}
    assert resolve_unknown(submission_id, owner="w", **kwargs).outcome is Outcome.SKIPPED  # type: ignore[arg-type]
    assert p.world.submissions[submission_id].state is SubmissionState.BUILT
    assert p.world.submissions[submission_id].lease_owner is None


def test_polling_backs_off_while_amazon_processes(p: Pipeline) -> None:
    p.feeds.processing_time = timedelta(minutes=30)
    submission_id = built(p)
    p.advance(submission_id)
    p.tick(timedelta(minutes=4))
    first = p.advance(submission_id)
    assert first.outcome is Outcome.WAITING and first.retry_in == timedelta(minutes=1)
    assert p.world.submissions[submission_id].processing_status == "IN_PROGRESS"
    p.tick(timedelta(minutes=16))
    assert p.advance(submission_id).retry_in == POLICY.longest_poll
    p.tick(timedelta(minutes=10))
    assert p.advance(submission_id).outcome is Outcome.DONE


def test_a_retryable_error_sends_the_message_again_and_gives_up_after_the_last_resend(
    p: Pipeline,
) -> None:
    p.add(new_refund("113-0000001-0000001"))
    p.add(new_refund("113-0000002-0000001"))
    p.feeds.errors[2] = ("5002", "Amazon could not process it now")
    p.run()
    states = p.world.states()
    assert states[1] is RefundState.CONFIRMED and states[2] is RefundState.FAILED
    refund = p.world.refunds[2]
    assert (refund.failure_code, refund.attempts) == ("5002", POLICY.retryable_resends + 1)
    assert len(p.feeds.feeds) == POLICY.retryable_resends + 1
    assert p.feeds.applied_messages() == [1]


def test_an_error_fails_the_message_and_the_others_are_confirmed(p: Pipeline) -> None:
    p.add(new_refund("113-0000001-0000001"))
    p.add(new_refund("113-0000002-0000001"))
    p.feeds.errors[1] = ("18028", "The adjustment exceeds the amount charged")
    p.run()
    failed = p.world.refunds[1]
    assert failed.state is RefundState.FAILED
    assert failed.failure_reason == "The adjustment exceeds the amount charged"
    assert p.world.refunds[2].state is RefundState.CONFIRMED
    assert sorted(p.world.topics()) == ["RefundConfirmed", "RefundFailed"]
    assert len(p.feeds.feeds) == 1


def test_a_fatal_feed_sends_its_messages_again_once_then_fails_them(p: Pipeline) -> None:
    p.add(new_refund())
    p.feeds.final_status = "FATAL"
    p.run()
    refund = p.world.refunds[1]
    assert refund.state is RefundState.FAILED and refund.failure_code == "FeedFatal"
    assert "ended FATAL" in (refund.failure_reason or "")
    assert [row.state for row in p.world.submissions.values()] == [SubmissionState.FATAL] * 2
    assert p.feeds.applied == []


def test_an_upload_that_fails_waits_longer_each_time(p: Pipeline) -> None:
    submission_id = built(p)
    p.feeds.fail("upload", AmazonBusy("QuotaExceeded"))
    assert p.advance(submission_id).retry_in == POLICY.busy_wait
    p.feeds.fail("upload", FeedRefused("InvalidInput", "bad"))
    assert p.advance(submission_id).retry_in == 2 * POLICY.failure_wait
    row = p.world.submissions[submission_id]
    assert row.state is SubmissionState.BUILT and "bad" in (row.last_error or "")
    assert p.advance(submission_id).outcome is Outcome.CREATED
