"""The fulfilment store's contract: the same scenarios against the fake and the SQL store.

Intake (new, replayed, in conflict), the lease (claim, held, run out, released), the outcomes
(confirmed, failed, reopened by an operator) and the put-off read-back (claimed, deferred,
recorded). Every state change seen is one the domain's machine allows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.fulfilments import (
    TRANSITIONS,
    Accepted,
    FulfilmentState,
    ReadBack,
    Rejected,
    accept_fulfilment,
    retry_fulfilment,
)
from tests.contracts.conftest import NOW, ORDER_ID, Harness
from workers.doors.fulfilments import read_request, take_in

LEASE = timedelta(minutes=6)
S = FulfilmentState


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_fulfilment_id": "F-1",
        "shipped_at": (NOW - timedelta(hours=1)).isoformat(),
        "carrier_code": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"sku": "MUG-RED", "quantity": 1}],
    }
    data.update(changes)
    return data


def accept(h: Harness, **changes: Any) -> Accepted | Rejected:
    return accept_fulfilment(read_request(body(**changes)), h.store, h.clock)


def accepted(h: Harness, **changes: Any) -> int:
    result = accept(h, **changes)
    assert isinstance(result, Accepted) and result.created, result
    return result.fulfilment.id


def claimed(h: Harness, owner: str = "task-1") -> int:
    fulfilment_id = accepted(h)
    assert h.store.claim(fulfilment_id, owner, LEASE) is not None
    return fulfilment_id


def test_intake_stores_an_accepted_fulfilment_with_its_lines(harness: Harness) -> None:
    result = accept(harness)
    assert isinstance(result, Accepted) and result.created
    fulfilment = harness.fulfilment(result.fulfilment.id)
    assert fulfilment.state is S.ACCEPTED and fulfilment.attempts == 0
    assert [(line.order_item_id, line.quantity, line.sku) for line in fulfilment.lines] == [
        ("ITEM-A", 1, "MUG-RED")
    ]
    assert (fulfilment.carrier_code, fulfilment.tracking_number) == ("UPS", "1Z999AA10123456784")


def test_the_same_request_again_is_a_replay_of_the_first(harness: Harness) -> None:
    first = accepted(harness)
    again = accept(harness)
    assert isinstance(again, Accepted) and not again.created
    assert again.fulfilment.id == first


def test_another_body_under_a_taken_platform_fulfilment_id_is_a_conflict(
    harness: Harness,
) -> None:
    accepted(harness)
    result = accept(harness, tracking_number="1Z999AA10123456785")
    assert isinstance(result, Rejected) and result.conflict
    assert [e.field for e in result.errors] == ["platform_fulfilment_id"]


def test_more_than_remains_is_refused_counting_what_is_in_flight(harness: Harness) -> None:
    accepted(harness, lines=[{"sku": "MUG-RED", "quantity": 2}])
    result = accept(
        harness, platform_fulfilment_id="F-2", lines=[{"sku": "MUG-RED", "quantity": 2}]
    )
    assert isinstance(result, Rejected) and not result.conflict
    assert [e.field for e in result.errors] == ["lines[0].quantity"]


def test_a_refused_queue_request_is_recorded_once_with_one_event(harness: Harness) -> None:
    message = {"version": 1, "type": "fulfilment.requested", **body(carrier_code="")}
    for _ in range(2):
        result = take_in(message, harness.store, harness.clock)
        assert isinstance(result, Rejected)
    assert harness.topics() == ["fulfilments/failed"]


def test_a_claim_moves_it_to_sending_and_counts_an_attempt(harness: Harness) -> None:
    fulfilment_id = accepted(harness)
    fulfilment = harness.store.claim(fulfilment_id, "task-1", LEASE)
    assert fulfilment is not None and fulfilment.state is S.SENDING
    assert fulfilment.attempts == 1 and harness.state(fulfilment_id) is S.SENDING


def test_a_live_lease_keeps_every_other_attempt_out(harness: Harness) -> None:
    """An owner is one attempt's token: a second attempt, even of the same message (a copy
    redelivered while the first is paused), never enters a live lease."""
    fulfilment_id = claimed(harness, "attempt-1")
    assert harness.store.claim(fulfilment_id, "attempt-2", LEASE) is None
    assert harness.store.claim(fulfilment_id, "attempt-1", LEASE) is None
    assert harness.fulfilment(fulfilment_id).attempts == 1


def test_a_renewal_keeps_the_lease_alive_and_only_its_owner_renews(harness: Harness) -> None:
    fulfilment_id = claimed(harness, "attempt-1")
    assert not harness.store.renew_lease(fulfilment_id, "attempt-2", LEASE)
    harness.expire_lease(fulfilment_id)
    # Ran out but nobody took it: still its own, and the renewal makes it live again.
    assert harness.store.renew_lease(fulfilment_id, "attempt-1", LEASE)
    assert harness.store.claim(fulfilment_id, "attempt-2", LEASE) is None
    harness.expire_lease(fulfilment_id)
    assert harness.store.claim(fulfilment_id, "attempt-2", LEASE) is not None
    # Taken over: the old attempt can renew nothing, so its check before a call fails.
    assert not harness.store.renew_lease(fulfilment_id, "attempt-1", LEASE)
    assert harness.store.renew_lease(fulfilment_id, "attempt-2", LEASE)


def test_letting_go_frees_the_lease_at_once_for_the_next_attempt(harness: Harness) -> None:
    fulfilment_id = claimed(harness, "attempt-1")
    assert not harness.store.let_go(fulfilment_id, "attempt-2")
    assert harness.store.claim(fulfilment_id, "attempt-2", LEASE) is None
    assert harness.store.let_go(fulfilment_id, "attempt-1")  # e.g. before its task retries
    assert harness.state(fulfilment_id) is S.SENDING
    retried = harness.store.claim(fulfilment_id, "attempt-2", LEASE)
    assert retried is not None and retried.attempts == 2
    assert not harness.store.let_go(fulfilment_id, "attempt-1")
    assert harness.store.record_confirmed(retried, "attempt-2", ReadBack())
    assert not harness.store.let_go(fulfilment_id, "attempt-2")  # nothing held once recorded
    assert not harness.store.renew_lease(fulfilment_id, "attempt-2", LEASE)


def test_a_lease_that_ran_out_is_taken_over_and_fences_out_its_old_owner(
    harness: Harness,
) -> None:
    fulfilment_id = claimed(harness, "task-1")
    harness.expire_lease(fulfilment_id)
    taken = harness.store.claim(fulfilment_id, "task-2", LEASE)
    assert taken is not None and taken.attempts == 2
    assert not harness.store.release(fulfilment_id, "task-1", timedelta(0), "late")
    assert not harness.store.record_failed(fulfilment_id, "task-1", "Late", "late")
    assert harness.state(fulfilment_id) is S.SENDING


def test_a_release_gives_it_back_for_a_retry(harness: Harness) -> None:
    fulfilment_id = claimed(harness)
    assert not harness.store.release(fulfilment_id, "task-2", timedelta(0), "not mine")
    assert harness.store.release(fulfilment_id, "task-1", timedelta(minutes=10), "Throttled")
    fulfilment = harness.fulfilment(fulfilment_id)
    assert (fulfilment.state, fulfilment.last_error) == (S.ACCEPTED, "Throttled")
    assert harness.store.claim(fulfilment_id, "task-2", LEASE) is not None


def test_a_confirmation_is_final_and_told_once(harness: Harness) -> None:
    fulfilment_id = claimed(harness)
    fulfilment = harness.fulfilment(fulfilment_id)
    stale = harness.store.record_confirmed(fulfilment, "task-2", ReadBack())
    assert not stale
    assert harness.store.record_confirmed(fulfilment, "task-1", ReadBack(package_listed=True))
    assert harness.state(fulfilment_id) is S.CONFIRMED
    assert not harness.store.record_confirmed(fulfilment, "task-1", ReadBack())
    assert harness.store.claim(fulfilment_id, "task-1", LEASE) is None
    assert harness.topics() == ["fulfilments/confirmed"]


def test_a_failure_keeps_amazons_reason_until_an_operator_reopens_it(harness: Harness) -> None:
    fulfilment_id = claimed(harness)
    assert harness.store.record_failed(fulfilment_id, "task-1", "InvalidInput", "bad tracking")
    failed = harness.fulfilment(fulfilment_id)
    assert (failed.state, failed.failure_code, failed.failure_reason) == (
        S.FAILED,
        "InvalidInput",
        "bad tracking",
    )
    assert harness.store.claim(fulfilment_id, "task-1", LEASE) is None
    assert harness.topics() == ["fulfilments/failed"]

    reopened = retry_fulfilment(fulfilment_id, harness.store, harness.clock)
    assert isinstance(reopened, Accepted) and reopened.created
    fulfilment = harness.fulfilment(fulfilment_id)
    assert (fulfilment.state, fulfilment.attempts, fulfilment.failure_code) == (
        S.ACCEPTED,
        0,
        None,
    )
    again = retry_fulfilment(fulfilment_id, harness.store, harness.clock)
    assert isinstance(again, Rejected)


def test_a_read_back_put_off_is_claimed_by_one_reader_deferred_and_recorded(
    harness: Harness,
) -> None:
    fulfilment_id = claimed(harness)
    fulfilment = harness.fulfilment(fulfilment_id)
    put_off = ReadBack(error="RateLimitTimeout", deferred=True, retry_after=timedelta(0))
    assert harness.store.record_confirmed(fulfilment, "task-1", put_off)

    pending = harness.store.claim_read_back(timedelta(minutes=5), frozenset())
    assert pending is not None and pending.fulfilment_id == fulfilment_id
    assert pending.amazon_order_id == ORDER_ID
    assert harness.store.claim_read_back(timedelta(minutes=5), frozenset()) is None  # leased
    harness.store.defer_read_back(fulfilment_id, timedelta(0), "RateLimitTimeout", False)
    skipped = harness.store.claim_read_back(timedelta(minutes=5), frozenset({pending.account_id}))
    assert skipped is None  # that seller's budget is spent
    pending = harness.store.claim_read_back(timedelta(minutes=5), frozenset())
    assert pending is not None

    harness.store.record_read_back(pending, ReadBack(package_status="PENDING", package_listed=True))
    assert harness.store.claim_read_back(timedelta(minutes=5), frozenset()) is None
    assert harness.state(fulfilment_id) is S.CONFIRMED


def test_every_state_change_is_one_the_domains_machine_allows(harness: Harness) -> None:
    seen: set[tuple[FulfilmentState, FulfilmentState]] = set()

    def step(fulfilment_id: int, change: Any) -> None:
        before = harness.state(fulfilment_id)
        change()
        after = harness.state(fulfilment_id)
        if after is not before or change.__name__ == "claim_again":
            seen.add((before, after))

    store = harness.store
    first = accepted(harness)
    step(first, lambda: store.claim(first, "task-1", LEASE))
    step(first, lambda: store.release(first, "task-1", timedelta(0), "Throttled"))
    step(first, lambda: store.claim(first, "task-1", LEASE))

    def claim_again() -> None:
        harness.expire_lease(first)
        assert store.claim(first, "task-2", LEASE) is not None

    step(first, claim_again)
    step(first, lambda: store.record_failed(first, "task-2", "InvalidInput", "bad"))
    step(first, lambda: retry_fulfilment(first, store, harness.clock))
    step(first, lambda: store.claim(first, "task-3", LEASE))
    step(first, lambda: store.record_confirmed(harness.fulfilment(first), "task-3", ReadBack()))

    assert all(new in TRANSITIONS[old] for old, new in seen), seen
    assert seen == {
        (S.ACCEPTED, S.SENDING),
        (S.SENDING, S.ACCEPTED),
        (S.SENDING, S.SENDING),
        (S.SENDING, S.FAILED),
        (S.FAILED, S.ACCEPTED),
        (S.SENDING, S.CONFIRMED),
    }
