"""Read-backs put off at confirmation: read later while each seller's budget allows, given up
after a day."""

from __future__ import annotations

from datetime import timedelta

from domain.fulfilments import (
    READ_BACK_GIVE_UP,
    Fulfilment,
    FulfilmentState,
    Outcome,
    read_back_pending,
)
from tests.fakes import T0, FakeAmazon, FakeFulfilmentStore, FixedClock, order_snapshot
from tests.unit.domain.fulfilments.helpers import LEASE, accepted, confirm


def read_back_later(store: FakeFulfilmentStore, amazon: FakeAmazon, clock: FixedClock) -> int:
    return read_back_pending(store, amazon, clock, limit=10, lease=LEASE)


def confirmed_unread(
    store: FakeFulfilmentStore, clock: FixedClock
) -> tuple[Fulfilment, FakeAmazon]:
    """A fulfilment confirmed while its seller's getOrder budget was spent."""
    fulfilment = accepted(store, clock)
    amazon = FakeAmazon(read_budget={7: 0})
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    return fulfilment, amazon


def test_a_read_back_that_would_wait_is_put_off_and_the_confirmation_stands(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment, amazon = confirmed_unread(store, clock)
    assert store.read_backs[fulfilment.id].deferred
    assert [topic for topic, _ in store.events] == ["fulfilments/confirmed"]
    assert store.read_back_due[fulfilment.id] == T0 + timedelta(seconds=2)
    clock.at = T0 + timedelta(seconds=2)
    # The budget is still spent: put off again, by the budget's own estimate, nothing read.
    assert read_back_later(store, amazon, clock) == 0
    assert store.read_back_due[fulfilment.id] == clock.at + timedelta(seconds=2)
    amazon.read_budget[7] = 5
    clock.at += timedelta(seconds=2)
    assert read_back_later(store, amazon, clock) == 1
    assert (
        fulfilment.id not in store.read_back_due and store.read_backs[fulfilment.id].package_listed
    )
    assert read_back_later(store, amazon, clock) == 0
    assert amazon.reads == [str(fulfilment.id)] and len(amazon.calls) == 1  # sent once


def test_one_sellers_spent_budget_does_not_hold_back_anothers_read_backs(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.accounts["globex"] = 8
    store.add_order(order_snapshot(order_id=2, account_id=8))
    first = accepted(store, clock)
    second = accepted(store, clock, account="globex", platform_fulfilment_id="F-2")
    amazon = FakeAmazon(read_budget={7: 0, 8: 0})
    for fulfilment in (first, second):
        assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    amazon.read_budget[8] = 1
    clock.at = T0 + timedelta(minutes=1)
    assert read_back_later(store, amazon, clock) == 1
    assert amazon.reads == [str(second.id)] and set(store.read_back_due) == {first.id}


def test_a_read_back_put_off_for_a_day_is_given_up(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment, amazon = confirmed_unread(store, clock)
    clock.at = T0 + READ_BACK_GIVE_UP + timedelta(seconds=1)
    assert read_back_later(store, amazon, clock) == 0
    assert not store.read_back_due
    assert store.rows[fulfilment.id].state is FulfilmentState.CONFIRMED
    assert store.rows[fulfilment.id].last_error == "RateLimitTimeout"
