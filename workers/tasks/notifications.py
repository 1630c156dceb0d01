"""Notifications queue: the order refreshes the consumer committed (``workers.consumer``), read
with getOrder and stored as the sync stores them. Thin: ``domain.notifications`` decides.

``notifications.refresh`` drains one account's pending refreshes (the consumer queues it after
each batch that asked for some); ``notifications.sweep`` (beat, every 15 s) queues a drain for
every account with refreshes nobody holds, whatever message was lost, and purges notifications
and sightings past their retention.

A drain that meets an empty getOrder budget comes back when the budget says (the base's
throttle path); only one such return is scheduled per account at a time (``RETURN_MARK``), so
the drains the consumer queued while the budget was empty do not each keep coming back.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from domain.notifications import RefreshPolicy, refresh_orders, refresh_threshold
from infra.amazon.models import usage_plan
from infra.db.notifications import accounts_with_refreshes, purge
from workers import bootstrap
from workers.app import app
from workers.base import TransientError, channel_task, shown_as

GET_ORDER = "orders2026.getOrder"
SEARCH_ORDERS = "orders2026.searchOrders"
RETURN_MARK = "amazon-channel:notifications:refresh-returns:"


@cache
def refresh_policy() -> RefreshPolicy:
    """The threshold from Amazon's usage plans (``domain.notifications.refresh_threshold``):
    getOrder's bucket as ours holds it (one token held back) and both operations' rates."""
    get_order, search = usage_plan(GET_ORDER), usage_plan(SEARCH_ORDERS)
    return RefreshPolicy(
        threshold=refresh_threshold(get_order.rate, max(1, get_order.burst - 1), search.rate)
    )


@channel_task("notifications.refresh")
def refresh(account_id: int) -> dict[str, Any]:
    c = bootstrap.container()
    report = refresh_orders(
        int(account_id),
        store=c.notification_store,
        reader=c.order_reader,
        clock=c.clock,
        policy=refresh_policy(),
    )
    if report.changed:
        # By name: the events tasks live in their own module (queues do not import each other).
        app.send_task("events.dispatch")
    result = {
        "read": report.read,
        "changed": report.changed,
        "dropped": report.dropped,
        "deferred": report.deferred,
    }
    if report.retry_in is None:
        return result
    wait = report.retry_in.total_seconds()
    if wait <= 0:  # a full batch: more are pending
        refresh.apply_async(args=[account_id], **shown_as(account_id=account_id))
        return result
    mark_ms = max(1, int(wait * 1000) - 50)
    if not c.redis.set(f"{RETURN_MARK}{int(account_id)}", 1, nx=True, px=mark_ms):
        return result  # another drain of the account comes back then
    raise TransientError(report.waits_on or "getOrder cannot answer now", retry_after_s=wait)


@channel_task("notifications.sweep")
def sweep() -> dict[str, Any]:
    """Beat's trigger: a drain per account with refreshes nobody holds; the purge."""
    c = bootstrap.container()
    accounts = accounts_with_refreshes(c.engine)
    for account_id in accounts:
        refresh.apply_async(args=[account_id], **shown_as(account_id=account_id))
    return {"queued": accounts, "purged": purge(c.engine)}
