"""Payout queue: Amazon's settlements fetched per account. Thin: ``domain.payouts.fetch``
decides; these rebuild arguments and call.

Beat asks every hour (``payout.fetch_all``): Amazon makes one settlement report per period
(about every 14 days), so an hour is prompt enough, and ``getReports`` allows one call every 45
seconds per seller. Each account's fetch is its own task; a fetch run twice, or killed half way,
stores nothing twice (the store's keys and resume point), so a repeated tick is harmless.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.payouts import fetch_settlements
from workers import bootstrap
from workers.app import app
from workers.base import channel_task, shown_as

# Amazon keeps reports 90 days: every settlement report it still lists is looked at (one
# already finished is skipped without being downloaded again).
LOOK_BACK = timedelta(days=90)
FETCH_EXPIRES_S = 3600


@channel_task("payout.fetch_all")
def fetch_all() -> int:
    """Beat's trigger: one fetch per account that reaches Amazon; returns how many."""
    queued = 0
    for account_id in bootstrap.active_account_ids():
        fetch.apply_async(
            args=[account_id], expires=FETCH_EXPIRES_S, **shown_as(account_id=account_id)
        )
        queued += 1
    return queued


@channel_task("payout.fetch")
def fetch(account_id: int) -> dict[str, Any]:
    c = bootstrap.container()
    report = fetch_settlements(
        account_id, c.settlements, c.payout_store, since=c.clock.now() - LOOK_BACK
    )
    if report.finished:
        # By name: the events tasks live in their own module (queues do not import each other).
        app.send_task("events.dispatch")
    return {
        "listed": report.listed,
        "skipped": report.skipped,
        "lines": report.lines,
        "settlements": [s.summary.settlement_id for s in report.finished],
        "unreconciled": [s.summary.settlement_id for s in report.finished if not s.reconciled],
    }
