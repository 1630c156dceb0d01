"""Killed anywhere, on fakes: a worker dies at each step of a submission's life (and while the
batch is checked, and while the report is applied); the next worker finishes it, every refund
ends in one final state with one event, and Amazon applied each adjustment once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from domain.feeds import Outcome
from domain.refunds import Refund, RefundState
from tests.fakes.feed_gateway import Killed
from tests.fakes.refund_sending import new_refund
from tests.fakes.submission_store import LEASE, Pipeline

ORDERS = ("113-0000001-0000001", "113-0000002-0000001", "113-0000003-0000001")


def pipeline() -> Pipeline:
    p = Pipeline.new()
    for order in ORDERS:
        p.add(new_refund(order))
    return p


def run_through_deaths(p: Pipeline, lives: int = 6) -> int:
    """Run workers until the work is done; each death waits out its lease. How many died."""
    for life in range(lives):
        try:
            p.run(owner=f"worker-{life}")
        except Killed:
            p.tick(LEASE)
            continue
        return life
    raise AssertionError("the work never finished")


def assert_each_sent_once(p: Pipeline) -> None:
    assert set(p.world.states().values()) == {RefundState.CONFIRMED}
    assert p.feeds.applied_messages() == [1, 2, 3]
    confirmed = Counter(
        event.refund.id  # type: ignore[attr-defined]
        for event in p.world.events
        if type(event).__name__ == "RefundConfirmed"
    )
    assert confirmed == {1: 1, 2: 1, 3: 1}
    assert p.world.topics().count("RefundRecordedFromAmazon") == 0


@pytest.mark.parametrize(
    ("step", "after"),
    [
        ("upload", False),  # after the claim
        ("upload", True),  # after the upload, before it was recorded
        ("create", False),  # after creating was committed, before createFeed left
        ("create", True),  # after createFeed returned, before the feed id was recorded
        ("status", False),  # while polling
        ("status", True),
        ("report", True),  # after the report was downloaded, before it was applied
        ("listed", False),  # while a lost answer is being resolved
    ],
)
def test_a_worker_killed_at_any_step_leaves_a_state_the_next_one_finishes(
    step: str, after: bool
) -> None:
    p = pipeline()
    if step == "listed":
        p.feeds.fail("create", Killed(), after=True)
    p.feeds.fail(step, Killed(), after=after)
    deaths = run_through_deaths(p)
    assert deaths >= 1
    assert_each_sent_once(p)


def test_killed_twice_around_createfeed_the_feed_is_still_made_once() -> None:
    p = pipeline()
    p.feeds.fail("create", Killed(), after=True)
    p.feeds.fail("listed", Killed(), after=True)
    p.feeds.fail("status", Killed())
    assert run_through_deaths(p) == 3
    assert_each_sent_once(p)
    assert len(p.feeds.feeds) == 1 and p.feeds.calls.count("create") == 1


def test_killed_before_createfeed_left_the_batch_goes_in_a_new_feed_once_proven_absent() -> None:
    p = pipeline()
    p.feeds.fail("create", Killed())
    run_through_deaths(p)
    assert_each_sent_once(p)
    (first, second) = p.world.submissions.values()
    assert (first.state.value, second.state.value) == ("not_created", "done")


def test_killed_while_the_report_is_applied_nothing_of_it_stays_and_it_is_applied_again() -> None:
    p = pipeline()
    original = p.world.move
    moves = {"confirmed": 0}

    def dies_on_the_second(refund_id: int, target: RefundState, **changes: Any) -> Refund:
        if target is RefundState.CONFIRMED:
            moves["confirmed"] += 1
            if moves["confirmed"] == 2:
                raise Killed
        return original(refund_id, target, **changes)

    p.world.move = dies_on_the_second  # type: ignore[method-assign]
    assert run_through_deaths(p) == 1
    assert_each_sent_once(p)


def test_killed_while_the_batch_is_checked_on_amazon_nothing_is_built_half() -> None:
    p = pipeline()
    original = p.finances.refunds_of_order
    calls = {"n": 0}

    def dies(account_id: int, amazon_order_id: str) -> tuple[object, ...]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed
        return original(account_id, amazon_order_id)

    p.finances.refunds_of_order = dies  # type: ignore[assignment,method-assign]
    assert run_through_deaths(p) == 1
    assert_each_sent_once(p)
    assert len(p.world.submissions) == 1


def test_every_step_run_twice_by_two_workers_has_one_effect() -> None:
    p = pipeline()
    p.feeds.processing_time = LEASE + timedelta(seconds=1)
    (submission_id,) = p.flush()
    assert p.flush() == []
    assert p.advance(submission_id, "a").outcome is Outcome.CREATED
    assert p.advance(submission_id, "b").outcome is Outcome.WAITING  # polled: in progress
    p.tick(LEASE + timedelta(seconds=1))
    assert p.advance(submission_id, "a").outcome is Outcome.DONE
    assert p.advance(submission_id, "b").outcome is Outcome.SKIPPED
    assert_each_sent_once(p)
    assert p.feeds.calls.count("upload") == p.feeds.calls.count("create") == 1
