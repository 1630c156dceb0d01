"""When an account's next sync may start: as often as its ``searchOrders`` budget sustains.

Amazon's bucket for ``searchOrders`` holds 20 calls and refills about one every three minutes
per seller. A sync costs at least one call, so a fixed one-minute schedule spends three times
what refills and empties every seller's bucket within half an hour; after that a sync with many
pages (a busy afternoon, a backfill) crawls at one page per refill with nothing in hand.

So the schedule follows the budget, read without spending from it:

- above a reserve (``reserve`` calls kept for syncs with many pages) a sync is due at every tick:
  a quiet seller, a new one, spends from its burst; a steady one settles at the budget's own pace,
  one sync per refill, with the reserve whole;
- at or below the reserve (a sync with many pages spent it: those may spend it all, their task
  waits for the budget, it is not refused) a sync is due once ``RECOVERY_CALLS`` calls have
  refilled since the last one was queued: new orders still arrive every few minutes while half
  of what refills rebuilds the reserve. But while changes may be waiting (``busy``: the last
  sync stored changes and no notification brings them), once one call has refilled: a busy
  seller polled alone is synced at its budget's pace, every refill, and the reserve rebuilds
  when it is quiet. A busy seller synced once per two refills would read twice the stretch per
  sync, need a second page, spend two calls, and stay below the reserve for good;
- a first sync (no sync queued before) is due at once, whatever the budget holds.
"""

from __future__ import annotations

from dataclasses import dataclass

# Below the reserve, one sync per this many calls refilled: the rest rebuilds the reserve.
RECOVERY_CALLS = 2.0


@dataclass(frozen=True, slots=True)
class SearchBudget:
    """What a seller's ``searchOrders`` budget holds now, read without spending from it."""

    tokens: float  # calls it would grant now
    capacity: float  # calls it holds when full
    rate: float  # calls it gains per second

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("a budget's rate must be > 0 (an unlimited one is None)")


def seconds_until_sync_due(
    budget: SearchBudget | None, reserve: int, *, since_last_s: float | None, busy: bool = False
) -> float:
    """0.0 when the account's scheduled sync may be queued now, else how long until it may.

    ``budget`` None means no limit applies (limits lifted): always due. ``since_last_s``: the
    seconds since the account's last sync was queued, None if none ever was; ``busy``: changes
    may be waiting (see the module doc). A reserve as large as the bucket is taken as one call
    less than the bucket, so a seller is still synced.
    """
    if budget is None or since_last_s is None:
        return 0.0
    keep = max(0.0, min(float(reserve), budget.capacity - 1))
    if budget.tokens >= keep + 1:
        return 0.0
    until_recovered = (1.0 if busy else RECOVERY_CALLS) / budget.rate - since_last_s
    until_a_call = (1 - budget.tokens) / budget.rate
    until_above_reserve = (keep + 1 - budget.tokens) / budget.rate
    return max(0.0, min(until_above_reserve, max(until_recovered, until_a_call)))
