"""When a scheduled sync is due: from above the reserve of the seller's searchOrders budget."""

from __future__ import annotations

import pytest

from domain.ingestion import SearchBudget, seconds_until_sync_due

# Amazon's searchOrders: burst 20 (our bucket holds 19), 0.0056 calls/s, x 0.9 safety.
RATE = 0.0056 * 0.9
CAPACITY = 19.0


def _budget(tokens: float) -> SearchBudget:
    return SearchBudget(tokens=tokens, capacity=CAPACITY, rate=RATE)


def test_a_full_budget_is_due_at_once_so_a_new_accounts_first_sync_is_immediate() -> None:
    assert seconds_until_sync_due(_budget(CAPACITY), reserve=10) == 0.0


def test_no_limit_is_always_due() -> None:
    assert seconds_until_sync_due(None, reserve=10) == 0.0


def test_a_budget_down_to_its_reserve_waits_for_the_call_above_it() -> None:
    wait = seconds_until_sync_due(_budget(10.5), reserve=10)
    assert wait == pytest.approx(0.5 / RATE)


def test_exactly_one_call_above_the_reserve_is_due() -> None:
    assert seconds_until_sync_due(_budget(11.0), reserve=10) == 0.0


def test_an_empty_budget_waits_for_the_reserve_and_one_call_to_refill() -> None:
    assert seconds_until_sync_due(_budget(0.0), reserve=10) == pytest.approx(11 / RATE)


def test_a_reserve_as_large_as_the_bucket_still_lets_a_full_bucket_sync() -> None:
    assert seconds_until_sync_due(_budget(CAPACITY), reserve=100) == 0.0
    assert seconds_until_sync_due(_budget(CAPACITY - 0.5), reserve=100) > 0


def test_reserve_zero_spends_down_to_the_last_call() -> None:
    assert seconds_until_sync_due(_budget(1.0), reserve=0) == 0.0
    assert seconds_until_sync_due(_budget(0.5), reserve=0) == pytest.approx(0.5 / RATE)


def test_a_budget_without_a_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        SearchBudget(tokens=1, capacity=1, rate=0)


def _ticks(hours: float, reserve: int | None) -> tuple[int, float]:
    """A seller's bucket under one-minute ticks, one call per sync: (syncs, lowest tokens).

    ``reserve`` None is the fixed schedule (a sync at every tick the bucket has a call for)."""
    tokens, syncs, lowest = CAPACITY, 0, CAPACITY
    for _ in range(int(hours * 60)):
        due = tokens >= 1 if reserve is None else seconds_until_sync_due(_budget(tokens), reserve)
        if due is True or due == 0.0:
            tokens -= 1
            syncs += 1
        lowest = min(lowest, tokens)
        tokens = min(CAPACITY, tokens + 60 * RATE)
    return syncs, lowest


def test_ticks_every_minute_never_spend_the_reserve_and_sync_at_the_budgets_pace() -> None:
    syncs, lowest = _ticks(hours=6, reserve=10)
    assert lowest >= 10
    refilled = 6 * 3600 * RATE
    # Everything the budget refills, less what a one-minute tick leaves unspent, plus the burst.
    assert refilled * 0.75 <= syncs <= refilled + CAPACITY - 10


def test_the_fixed_schedule_empties_the_budget_within_half_an_hour() -> None:
    _, lowest = _ticks(hours=0.5, reserve=None)
    assert lowest < 1
