"""Read-backs put off at confirmation (the seller's ``getOrder`` budget was spent, or Amazon
was briefly away), read later while each seller's budget allows."""

from __future__ import annotations

from datetime import timedelta

from domain.fulfilments.ports import ReadBackStore, ShipmentGateway
from domain.shared import Clock

# A put-off read-back is tried again after this when Amazon gave no better hint, and given up
# this long after the confirmation (the order is synced anyway; the confirmation stands).
READ_BACK_RETRY = timedelta(seconds=10)
READ_BACK_GIVE_UP = timedelta(days=1)


def read_back_pending(
    store: ReadBackStore,
    amazon: ShipmentGateway,
    clock: Clock,
    *,
    limit: int,
    lease: timedelta,
) -> int:
    """Read back confirmed fulfilments whose read-back was put off, the longest due first,
    while each seller's ``getOrder`` budget has tokens free: a seller whose budget is spent is
    left for the next run, the others go on. Safe to run twice and at once (a read-back is a
    read; each is claimed for ``lease``). Returns how many were read."""
    read = 0
    spent: set[int] = set()
    for _ in range(limit):
        pending = store.claim_read_back(lease, frozenset(spent))
        if pending is None:
            break
        result = amazon.read_back(
            pending.account_id, pending.amazon_order_id, pending.package_reference_id
        )
        if result.deferred:
            give_up = clock.now() - pending.confirmed_at > READ_BACK_GIVE_UP
            retry_in = result.retry_after or READ_BACK_RETRY
            store.defer_read_back(pending.fulfilment_id, retry_in, result.error, give_up)
            spent.add(pending.account_id)
            continue
        store.record_read_back(pending, result)
        read += 1
    return read
