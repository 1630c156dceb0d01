"""Confirmation on fakes: one package per fulfilment, resends are edits, the lease keeps other
workers out, transient and permanent failures, the attempt limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.fulfilments import (
    MAX_ATTEMPTS,
    Accepted,
    AmazonUnavailable,
    FulfilmentState,
    Outcome,
    ReadBack,
    ShipmentRejected,
    retry_fulfilment,
)
from domain.shared import LeaseLost
from tests.fakes import T0, FakeAmazon, FakeFulfilmentStore, FixedClock
from tests.unit.domain.fulfilments.helpers import LEASE, accepted, confirm, reasons


def test_confirming_sends_one_package_with_the_id_as_reference_and_the_stores_ship_date(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock, shipped_at="2026-11-01T09:15:00-02:00")
    amazon = FakeAmazon()
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    (package,) = amazon.calls
    assert package.package_reference_id == str(fulfilment.id)
    assert package.ship_date == datetime(2026, 11, 1, 11, 15, tzinfo=UTC)  # not "now"
    assert [(ln.order_item_id, ln.quantity) for ln in package.lines] == [("ITEM-A", 1)]
    assert store.rows[fulfilment.id].state is FulfilmentState.CONFIRMED
    assert store.read_backs[fulfilment.id].package_listed
    assert [topic for topic, _ in store.events] == ["fulfilments/confirmed"]


def test_a_second_attempt_of_the_same_message_stays_out_of_a_live_lease(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    """Each attempt has a token of its own; a copy of the message never enters a live lease."""
    fulfilment = accepted(store, clock)
    assert store.claim(fulfilment.id, "attempt-1", LEASE) is not None  # a first copy, paused
    amazon = FakeAmazon()
    assert confirm(store, amazon, fulfilment.id, owner="attempt-1") is Outcome.SKIPPED
    assert confirm(store, amazon, fulfilment.id, owner="attempt-2") is Outcome.SKIPPED
    assert amazon.calls == []


def test_confirming_twice_sends_once(store: FakeFulfilmentStore, clock: FixedClock) -> None:
    fulfilment = accepted(store, clock)
    amazon = FakeAmazon()
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    assert confirm(store, amazon, fulfilment.id, owner="task-2") is Outcome.SKIPPED
    assert len(amazon.calls) == 1
    assert len(store.events) == 1


def test_a_live_lease_keeps_other_workers_out_and_an_expired_one_is_taken_over(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    assert store.claim(fulfilment.id, "dead-worker", LEASE) is not None
    amazon = FakeAmazon()
    assert confirm(store, amazon, fulfilment.id, owner="task-2") is Outcome.SKIPPED
    assert not amazon.calls
    clock.at = T0 + LEASE
    assert confirm(store, amazon, fulfilment.id, owner="task-2") is Outcome.CONFIRMED
    # The first worker, back from the dead, may no longer write an outcome.
    assert not store.record_confirmed(fulfilment, "dead-worker", ReadBack())
    assert store.rows[fulfilment.id].attempts == 2


def test_a_transient_error_gives_the_fulfilment_back_and_raises_for_a_retry(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    amazon = FakeAmazon(failures=[(AmazonUnavailable("Throttled"), False)])
    with pytest.raises(AmazonUnavailable):
        confirm(store, amazon, fulfilment.id)
    row = store.rows[fulfilment.id]
    assert (row.state, row.last_error) == (FulfilmentState.ACCEPTED, "Throttled")
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED


def test_a_response_lost_after_amazon_applied_it_is_resent_as_an_edit_of_the_same_package(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    lost = AmazonUnavailable("AmazonUnreachable: ReadTimeout (request sent)")
    amazon = FakeAmazon(failures=[(lost, True)])
    with pytest.raises(AmazonUnavailable):
        confirm(store, amazon, fulfilment.id)
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    assert len(amazon.calls) == 2
    assert {p.package_reference_id for p in amazon.calls} == {str(fulfilment.id)}
    assert len(amazon.packages) == 1  # an edit, never a second package


def test_a_long_throttle_is_left_to_the_sweeper(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    wait = AmazonUnavailable("RateLimitTimeout", retry_after=timedelta(minutes=20))
    amazon = FakeAmazon(failures=[(wait, False)])
    assert confirm(store, amazon, fulfilment.id) is Outcome.DEFERRED
    assert store.rows[fulfilment.id].state is FulfilmentState.ACCEPTED
    assert store.due_at[fulfilment.id] == T0 + timedelta(minutes=20)


def test_a_refusal_by_amazon_fails_the_fulfilment_with_the_reason_until_an_operator_retries(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    refusal = ShipmentRejected("InvalidInput", "Invalid trackingNumber")
    amazon = FakeAmazon(failures=[(refusal, False)])
    assert confirm(store, amazon, fulfilment.id) is Outcome.FAILED
    row = store.rows[fulfilment.id]
    assert (row.state, row.failure_code, row.failure_reason) == (
        FulfilmentState.FAILED,
        "InvalidInput",
        "Invalid trackingNumber",
    )
    assert store.events[-1] == (
        "fulfilments/failed",
        {"code": "InvalidInput", "message": "Invalid trackingNumber"},
    )
    # A failed fulfilment holds no quantity: the operator's retry checks it still fits.
    retried = retry_fulfilment(fulfilment.id, store, clock)
    assert isinstance(retried, Accepted) and retried.created
    assert retried.fulfilment.attempts == 0
    again = retry_fulfilment(fulfilment.id, store, clock)
    assert "only a failed one can be retried" in reasons(again)["fulfilment_id"]
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED


def test_a_fulfilment_that_keeps_killing_its_worker_fails_after_the_attempt_limit(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    for attempt in range(MAX_ATTEMPTS):
        assert store.claim(fulfilment.id, f"killed-{attempt}", LEASE) is not None
        clock.at += LEASE
    amazon = FakeAmazon()
    assert confirm(store, amazon, fulfilment.id) is Outcome.FAILED
    assert store.rows[fulfilment.id].failure_code == "TooManyAttempts"
    assert not amazon.calls


def test_a_lease_found_lost_before_the_call_ends_the_attempt_recording_nothing(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    """The gateway renews the lease right before calling and raises ``LeaseLost`` instead of
    calling when another attempt took over (this one was paused past its lease)."""
    fulfilment = accepted(store, clock)
    amazon = FakeAmazon(failures=[(LeaseLost("taken over"), False)])
    assert confirm(store, amazon, fulfilment.id, owner="paused") is Outcome.LEASE_LOST
    assert amazon.packages == {}
    assert store.rows[fulfilment.id].state is FulfilmentState.SENDING  # the new holder's to end
    assert store.events == [] and store.outbox == []
