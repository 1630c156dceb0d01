"""Ingestion queue: the periodic fan-out and the per-account sync. Thin: the use case decides."""

from __future__ import annotations

from typing import Any

from workers import compose
from workers.celery_app import app, channel_task


@channel_task("ingest.sync_all")
def sync_all() -> int:
    """Beat's trigger: one sync task per active account."""
    accounts = compose.active_account_ids()
    for account_id in accounts:
        sync_account.apply_async(args=[account_id], expires=300)
    return len(accounts)


@channel_task("ingest.sync_account")
def sync_account(account_id: int) -> dict[str, Any]:
    report = compose.sync_account(account_id)
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
