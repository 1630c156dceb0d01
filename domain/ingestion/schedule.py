"""When an account's next sync may start: as often as its ``searchOrders`` budget sustains.

Amazon's bucket for ``searchOrders`` holds 20 calls and refills about one every three minutes
per seller. A sync costs at least one call, so a fixed one-minute schedule spends three times
what refills and empties every seller's bucket within half an hour; after that a sync with many
pages (a busy afternoon, a backfill) crawls at one page per refill with nothing in hand.

So a scheduled sync only spends from above a reserve: it is due when the seller's budget holds
more than ``reserve`` calls. A seller with calls to spare (a new account, a quiet one) is synced
at every tick; a steady one settles at the budget's own pace (one sync per refill); the reserve
stays for the syncs that need many pages, and those may spend it all (their task waits for the
budget, it is not refused). A new account's budget is untouched, so its first sync is at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SearchBudget:
    """What a seller's ``searchOrders`` budget holds now, read without spending from it."""

    tokens: float  # calls it would grant now
    capacity: float  # calls it holds when full
    rate: float  # calls it gains per second

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("a budget's rate must be > 0 (an unlimited one is None)")


def seconds_until_sync_due(budget: SearchBudget | None, reserve: int) -> float:
    """0.0 when the account's scheduled sync may be queued now, else how long until it may.

    ``budget`` None means no limit applies (limits lifted): always due. A reserve as large as
    the bucket is taken as one call less than the bucket, so a seller is still synced.
    """
    if budget is None:
        return 0.0
    keep = max(0.0, min(float(reserve), budget.capacity - 1))
    needed = keep + 1
    if budget.tokens >= needed:
        return 0.0
    return (needed - budget.tokens) / budget.rate
