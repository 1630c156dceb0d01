"""The notification use cases: ``take_in`` (what the consumer does with each message) and
``refresh_orders`` (what the ``notifications`` queue does with the refreshes it asked for).

Order changes are coalesced: the consumer commits "order X of account A needs a refresh" (one
row per order, the latest change wins) and the message is gone; a drain reads each pending
order once with getOrder, however many notifications named it. When more refreshes are
pending for an account than getOrder's budget serves before the next ``searchOrders`` window
(``refresh_threshold``), they are left to that window instead: one searchOrders page reads up
to 100 orders for one call, where getOrder spends one call per order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.notifications.model import Notification, effect_of
from domain.notifications.ports import (
    ClaimedRefresh,
    NotificationStore,
    OrderReader,
    OrderUnreadable,
    ReadLater,
    RefreshReport,
    TakenIn,
)
from domain.orders import OrderProblem, check_order
from domain.shared import Clock


def take_in(notification: Notification, store: NotificationStore) -> TakenIn:
    """Commit what ``notification`` asks (once per NotificationId); the caller deletes the
    message only after this returns, and queues what the result names."""
    return store.take_in(notification, effect_of(notification))


def refresh_threshold(
    get_order_rate: float, get_order_capacity: float, search_orders_rate: float
) -> int:
    """Pending refreshes per account past which the next sync window reads them instead.

    What getOrder serves between two searchOrders calls: its bucket (``capacity`` calls) plus
    what refills while searchOrders refills one call (``1 / search_orders_rate`` seconds). At
    Amazon's quotas (getOrder 0.5/s, burst 30 of which we hold one back; searchOrders 0.0056/s,
    one call every ~179 s) that is 29 + 0.5 / 0.0056 = 118. The sandbox's speed-up scales both
    rates alike, so it cancels out: the same threshold everywhere. (Our safety margins, a tenth
    of getOrder's rate and 2 s of each searchOrders refill, would make it about 110: the
    difference is a few refreshes read one by one rather than in the next search page.)
    """
    if search_orders_rate <= 0:
        raise ValueError("searchOrders' rate must be > 0")
    return int(get_order_capacity + get_order_rate / search_orders_rate)


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    threshold: int
    batch: int = 50  # refreshes read per run (the task queues itself again for the rest)
    lease: timedelta = timedelta(seconds=60)


def refresh_orders(
    account_id: int,
    *,
    store: NotificationStore,
    reader: OrderReader,
    clock: Clock,
    policy: RefreshPolicy,
) -> RefreshReport:
    """Read the account's pending refreshes with getOrder and store each order as the sync
    would; safe to run twice at once (each refresh is leased) and to be killed (a lease lapses,
    the refresh is read again, the upsert writes nothing the second time)."""
    report = RefreshReport()
    if store.pending_refreshes(account_id) > policy.threshold:
        report.deferred = store.defer_refreshes(account_id)
        return report
    for _ in range(policy.batch):
        claim = store.claim_refresh(account_id, policy.lease)
        if claim is None:
            return report
        try:
            order = reader.get_order(account_id, claim.amazon_order_id)
        except ReadLater as busy:
            store.release_refresh(claim, busy.reason)
            report.retry_in = busy.retry_after or timedelta(seconds=2)
            report.waits_on = busy.reason
            return report
        except OrderUnreadable as exc:
            _drop(store, claim, report, str(exc))
            continue
        report.read += 1
        try:
            check_order(order, clock.now())
        except OrderProblem as problem:
            _drop(store, claim, report, str(problem))
            continue
        if order.amazon_order_id != claim.amazon_order_id:
            _drop(store, claim, report, f"getOrder answered order {order.amazon_order_id}")
            continue
        if store.store_refreshed(claim, order):
            report.changed += 1
    report.retry_in = timedelta(0)  # a full batch: more may be pending
    return report


def _drop(
    store: NotificationStore, claim: ClaimedRefresh, report: RefreshReport, reason: str
) -> None:
    store.drop_refresh(claim, reason)
    report.dropped += 1
    report.problems.append(f"{claim.amazon_order_id}: {reason}")
