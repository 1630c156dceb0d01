"""When a scheduled sync is due: from above the reserve of the seller's searchOrders budget at
every tick, below it once two calls have refilled, a first sync at once."""

from __future__ import annotations

import itertools

import pytest

from domain.ingestion import SearchBudget, seconds_until_sync_due

# Amazon's searchOrders: burst 20 (our bucket holds 19), 0.0056 calls/s, x 0.9 safety.
RATE = 0.0056 * 0.9
CAPACITY = 19.0
TICK_S = 60.0


def _budget(tokens: float) -> SearchBudget:
    return SearchBudget(tokens=tokens, capacity=CAPACITY, rate=RATE)


def _due(tokens: float, since_last_s: float | None = 0.0, reserve: int = 10) -> float:
    return seconds_until_sync_due(_budget(tokens), reserve, since_last_s=since_last_s)


def test_a_first_sync_is_due_at_once_whatever_the_budget_holds() -> None:
    assert _due(CAPACITY, since_last_s=None) == 0.0
    assert _due(0.0, since_last_s=None) == 0.0


def test_no_limit_is_always_due() -> None:
    assert seconds_until_sync_due(None, 10, since_last_s=0.0) == 0.0


def test_above_the_reserve_a_sync_is_due_at_every_tick() -> None:
    assert _due(CAPACITY) == 0.0
    assert _due(11.0) == 0.0


def test_at_the_reserve_it_waits_for_the_call_above_it() -> None:
    assert _due(10.5) == pytest.approx(0.5 / RATE)


def test_below_the_reserve_a_sync_is_due_once_two_calls_refilled_since_the_last() -> None:
    assert _due(3.0, since_last_s=0.0) == pytest.approx(2 / RATE)
    assert _due(3.0, since_last_s=1 / RATE) == pytest.approx(1 / RATE)
    assert _due(3.0, since_last_s=2 / RATE) == 0.0


def test_below_the_reserve_a_busy_seller_is_due_at_each_refill() -> None:
    def busy(tokens: float, since_last_s: float) -> float:
        return seconds_until_sync_due(_budget(tokens), 10, since_last_s=since_last_s, busy=True)

    assert busy(9.0, since_last_s=0.0) == pytest.approx(1 / RATE)
    assert busy(9.0, since_last_s=1 / RATE) == 0.0
    assert busy(0.2, since_last_s=1 / RATE) == pytest.approx(0.8 / RATE), "a call must be there"
    assert _due(9.0, since_last_s=1 / RATE) == pytest.approx(1 / RATE), "a quiet one: two"


def test_an_empty_budget_also_waits_for_a_call() -> None:
    assert _due(0.0, since_last_s=10 / RATE) == pytest.approx(1 / RATE)


def test_a_reserve_as_large_as_the_bucket_still_lets_a_full_bucket_sync() -> None:
    assert _due(CAPACITY, reserve=100) == 0.0
    assert _due(CAPACITY - 0.5, reserve=100) > 0


def test_reserve_zero_spends_down_to_the_last_call() -> None:
    assert _due(1.0, reserve=0) == 0.0
    assert _due(0.5, reserve=0) == pytest.approx(0.5 / RATE)


def test_a_budget_without_a_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        SearchBudget(tokens=1, capacity=1, rate=0)


def _ticks(
    hours: float, tokens: float, reserve: int | None, synced_at: float | None = None
) -> tuple[list[float], list[float]]:
    """A seller's bucket under one-minute ticks, one call per sync: (sync times, tokens after
    each tick). ``reserve`` None is the fixed schedule (a sync whenever the bucket has a call);
    ``synced_at``: a sync queued before the first tick."""
    syncs: list[float] = [] if synced_at is None else [synced_at]
    held: list[float] = []
    for n in range(int(hours * 60)):
        now = n * TICK_S
        since = None if not syncs else now - syncs[-1]
        if reserve is None:
            due = tokens >= 1
        else:
            due = seconds_until_sync_due(_budget(tokens), reserve, since_last_s=since) == 0.0
        if due:
            tokens -= 1
            syncs.append(now)
        held.append(tokens)
        tokens = min(CAPACITY, tokens + TICK_S * RATE)
    return syncs, held


def test_ticks_every_minute_never_spend_the_reserve_and_sync_at_the_budgets_pace() -> None:
    syncs, held = _ticks(hours=6, tokens=CAPACITY, reserve=10)
    assert min(held) >= 10
    refilled = 6 * 3600 * RATE
    # Everything the budget refills, less what a one-minute tick leaves unspent, plus the burst.
    assert refilled * 0.75 <= len(syncs) <= refilled + CAPACITY - 10


def test_after_a_sync_spent_the_whole_budget_syncs_go_on_and_the_reserve_comes_back() -> None:
    syncs, held = _ticks(hours=3, tokens=0.0, reserve=10, synced_at=0.0)
    gaps = [later - earlier for earlier, later in itertools.pairwise(syncs)]
    assert syncs and max(gaps) <= 2 / RATE + TICK_S, "a sync at least every two refills"
    assert min(held) >= -1e-9, "never a call the budget does not hold"
    assert held[-1] >= 10, "the reserve is rebuilt"


def test_the_fixed_schedule_empties_the_budget_within_half_an_hour() -> None:
    _, held = _ticks(hours=0.5, tokens=CAPACITY, reserve=None)
    assert min(held) < 1
