"""Ingestion queue: the periodic fan-out and the per-account sync. Thin: the use case decides.

Beat ticks every minute, and a sync at Amazon's real quotas may wait longer than that for its
``searchOrders`` budget. So each account's queued sync is marked in Redis (``PendingSyncs``):
the fan-out queues a sync only for an account that has none waiting, and the mark goes when
that sync ends, done or given up. A mark that outlives its sync (a message expired unread, a
worker killed) lapses on its own after ``PENDING_TTL_S``.

And a tick queues an account's sync only when its ``searchOrders`` budget makes it due (read
from the shared Redis budget without taking any, and the time its last sync was queued,
``QueuedAt``): a fixed minute would spend three times what Amazon refills and leave every
seller with an empty budget (``domain.ingestion.schedule``). A first sync is due at once. A
sync that falls due before the next tick is queued now to start when it is due (``countdown``):
a steady seller without notifications is synced the moment its budget refills a call, every
~181 s at Amazon's rate, not at the first tick after (every 240 s), and an order reaches the
store at most that long after Amazon's search shows it (two minutes after its change). Below
the reserve, a seller whose last sync stored changes and whose notifications are not healthy
is due at each refill too (``busy``), not at every second one.

While an account's notifications are healthy (``domain.notifications.health``: the consumer
alive, a notification within the hour, no refresh left to the sync) its sync runs at most every
``SYNC_INTERVAL_WITH_NOTIFICATIONS_SECONDS``: the notifications bring changes within seconds and
the sync is the safety net that finds what they missed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import redis

from domain.ingestion import seconds_until_sync_due
from domain.notifications import healthy
from infra.db.notifications import last_received
from workers import bootstrap
from workers.app import app
from workers.base import ChannelTask, channel_task, shown_as
from workers.consumer import consumer_alive
from workers.queues import HARD_TIME_LIMIT_S, MAX_COUNTDOWN_S
from workers.windows import changed_lately

# A queued sync is dropped unread after this (ticks that queued up while workers were away).
SYNC_EXPIRES_S = 300
# The furthest ahead of its start a tick queues a sync (well inside SYNC_EXPIRES_S).
MAX_AHEAD_S = 120.0
# The longest a sync can still be alive after its mark was set or refreshed: unread until it
# expires, or waiting for its longest countdown, then running to the hard time limit.
PENDING_TTL_S = max(SYNC_EXPIRES_S, MAX_COUNTDOWN_S) + HARD_TIME_LIMIT_S


class PendingSyncs:
    """Which accounts have a sync queued or waiting to run again, one Redis key each."""

    PREFIX = "amazon-channel:ingest:sync-pending:"

    def __init__(self, client: redis.Redis, ttl_s: int = PENDING_TTL_S) -> None:
        self.client = client
        self.ttl_s = ttl_s

    def claim(self, account_id: int) -> bool:
        """Mark the account's sync as queued; False when one is already (SET NX)."""
        return bool(self.client.set(self._key(account_id), 1, nx=True, ex=self.ttl_s))

    def keep(self, account_id: int) -> None:
        """The sync is waiting to run again: its mark lives on from now."""
        self.client.set(self._key(account_id), 1, ex=self.ttl_s)

    def release(self, account_id: int) -> None:
        self.client.delete(self._key(account_id))

    def is_pending(self, account_id: int) -> bool:
        return bool(self.client.exists(self._key(account_id)))

    def _key(self, account_id: int) -> str:
        return f"{self.PREFIX}{int(account_id)}"


def pending_syncs() -> PendingSyncs:
    return PendingSyncs(bootstrap.container().redis)


class QueuedAt:
    """When each account's last scheduled sync was queued (epoch seconds), one Redis key each.

    A lapsed key makes the account's next sync a first one (due at once): harmless, once."""

    PREFIX = "amazon-channel:ingest:queued-at:"

    def __init__(self, client: redis.Redis, ttl_s: int = 86_400) -> None:
        self.client = client
        self.ttl_s = ttl_s

    def read(self, account_ids: Sequence[int]) -> list[float | None]:
        if not account_ids:
            return []
        values = self.client.mget([self._key(a) for a in account_ids])
        return [None if v is None else float(v) for v in values]

    def mark(self, account_id: int, at: float) -> None:
        self.client.set(self._key(account_id), repr(at), ex=self.ttl_s)

    def _key(self, account_id: int) -> str:
        return f"{self.PREFIX}{int(account_id)}"


@channel_task("ingest.sync_all")
def sync_all() -> int:
    """Beat's trigger: one sync task per active account that has none waiting and whose
    ``searchOrders`` budget makes it due before the next tick (``domain.ingestion.schedule``),
    to start when it is due; returns how many were queued."""
    c = bootstrap.container()
    pending, queued_at = pending_syncs(), QueuedAt(c.redis)
    accounts = bootstrap.active_accounts()
    reserve = c.settings.sync_budget_reserve
    budgets = c.search_budgets(accounts)
    last_queued = queued_at.read([a.id for a in accounts])
    relaxed = notified_accounts([a.id for a in accounts])
    busy = changed_lately(c.redis, [a.id for a in accounts], "orders") - relaxed
    slower = c.settings.sync_interval_with_notifications_seconds
    ahead = min(c.settings.sync_interval_seconds, MAX_AHEAD_S)  # the next tick comes then
    now = time.time()
    queued = 0
    for account, budget, last in zip(accounts, budgets, last_queued, strict=True):
        since_last = None if last is None else max(0.0, now - last)
        due_in = seconds_until_sync_due(
            budget, reserve, since_last_s=since_last, busy=account.id in busy
        )
        if due_in > ahead:
            continue
        if account.id in relaxed and since_last is not None and since_last < slower:
            continue
        if not pending.claim(account.id):
            continue
        try:
            sync_account.apply_async(
                args=[account.id],
                countdown=due_in or None,
                expires=SYNC_EXPIRES_S,
                **shown_as(account=account.name, account_id=account.id),
            )
        except BaseException:
            pending.release(account.id)  # nothing was queued: the next tick tries again
            raise
        queued_at.mark(account.id, now + due_in)  # the schedule counts from when it starts
        queued += 1
    return queued


def notified_accounts(account_ids: list[int]) -> set[int]:
    """The accounts whose notifications are healthy now (their sync may run less often)."""
    c = bootstrap.container()
    if not account_ids or not consumer_alive(c.redis):
        return set()
    now, window = c.clock.now(), timedelta(seconds=c.settings.notifications_healthy_seconds)
    return {
        account_id
        for account_id, (received_at, deferred) in last_received(c.engine, account_ids).items()
        if healthy(
            consumer_alive=True,
            last_received_at=received_at,
            deferred_refreshes=deferred,
            now=now,
            window=window,
        )
    }


class _SyncAccountTask(ChannelTask):
    """Keeps the account's mark (``PendingSyncs``) while its sync waits to run again, and
    clears it when the sync is over. The retry policy is the base's."""

    def on_retry(self, exc: Any, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        with _mark_lapses_if_redis_is_away():
            pending_syncs().keep(_account_id(args, kwargs))

    def on_success(self, retval: Any, task_id: str, args: Any, kwargs: Any) -> None:
        with _mark_lapses_if_redis_is_away():
            pending_syncs().release(_account_id(args, kwargs))

    def on_failure(self, exc: Any, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        with _mark_lapses_if_redis_is_away():
            pending_syncs().release(_account_id(args, kwargs))


def _account_id(args: Any, kwargs: Any) -> int:
    return int(kwargs["account_id"] if "account_id" in kwargs else args[0])


def _mark_lapses_if_redis_is_away() -> contextlib.suppress:
    """A mark that cannot be kept or cleared now lapses by itself (``PENDING_TTL_S``): at worst
    one tick queues a second sync, which the sync's advisory lock makes a no-op."""
    return contextlib.suppress(redis.RedisError)


@channel_task("ingest.sync_account", base=_SyncAccountTask)
def sync_account(account_id: int) -> dict[str, Any]:
    report = bootstrap.sync_account(account_id)
    if report.created or report.updated:
        # By name: the events tasks live in their own module (queues do not import each other).
        app.send_task("events.dispatch")
    return {
        "skipped": report.skipped,
        "pages": report.pages,
        "orders": report.orders,
        "created": report.created,
        "updated": report.updated,
        "set_aside": report.set_aside,
    }
