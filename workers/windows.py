"""What each account's last closed sync window read (its orders over its span, and whether it
stored changes), one Redis key per account and scope: for fitting the next window's overlap
(``domain.ingestion.overlap``), and for the schedule (``domain.ingestion.schedule``: changes
may be waiting). A lost key (Redis emptied, a day without a sync) means the whole overlap and
a seller taken as quiet: the safe side."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import redis

from domain.ingestion import SEARCH_VISIBILITY, SyncReport, WindowSeen, fitted_overlap
from infra.settings import Settings

PREFIX = "amazon-channel:ingest:window:"
TTL_S = 86_400


def _key(account_id: int, scope: str) -> str:
    return f"{PREFIX}{int(account_id)}:{scope}"


def last_window(client: redis.Redis, account_id: int, scope: str) -> WindowSeen | None:
    try:
        raw = client.get(_key(account_id, scope))
    except redis.RedisError:
        return None
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        orders, span = text.split()[:2]
        return WindowSeen(orders=int(orders), span_s=float(span))
    except ValueError:
        return None


def changed_lately(client: redis.Redis, account_ids: Sequence[int], scope: str) -> set[int]:
    """The accounts whose last closed window stored changes (orders new or updated): changes
    may be waiting for their next sync too."""
    if not account_ids:
        return set()
    try:
        values = client.mget([_key(a, scope) for a in account_ids])
    except redis.RedisError:
        return set()
    found = set()
    for account_id, raw in zip(account_ids, values, strict=True):
        if raw is None:
            continue
        fields = (raw.decode() if isinstance(raw, bytes) else str(raw)).split()
        if len(fields) >= 3 and fields[2] == "1":
            found.add(int(account_id))
    return found


def remember_window(client: redis.Redis, account_id: int, scope: str, report: SyncReport) -> None:
    """The window this sync closed, if it closed one."""
    if report.window_after is None or report.watermark is None:
        return
    span = (report.watermark - report.window_after).total_seconds()
    with contextlib.suppress(redis.RedisError):
        changed = 1 if report.created or report.updated else 0
        client.set(_key(account_id, scope), f"{report.orders} {span:.3f} {changed}", ex=TTL_S)


def overlap_fitter(
    settings: Settings, last: WindowSeen | None, now: datetime
) -> Callable[[datetime], timedelta]:
    """What the sync asks, with its watermark, for how far to reach back."""
    overlap = timedelta(seconds=settings.sync_overlap_seconds)

    def fit(watermark: datetime) -> timedelta:
        fresh = (now - SEARCH_VISIBILITY - watermark).total_seconds()
        return fitted_overlap(overlap, last=last, fresh_s=fresh, page_size=settings.sync_page_size)

    return fit
