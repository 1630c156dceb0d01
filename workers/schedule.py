"""Beat's schedule: triggers only. Each task guards itself (advisory locks, leases), so a tick
repeated by a beat fail-over is harmless.

Most ticks find nothing to do, so a run that found nothing logs at DEBUG (``found_nothing``,
applied by ``workers.app`` to Celery's own "received" and "succeeded" lines): an idle system is
quiet at INFO, and a line at INFO means something happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.settings import Settings

# Housekeeping: the periodic tasks (and the per-account sync they fan out to) whose idle runs
# log at DEBUG.
HOUSEKEEPING: frozenset[str] = frozenset(
    {
        "ingest.sync_all",
        "ingest.sync_account",
        "events.dispatch",
        "events.deliver",
        "fulfil.sweep",
        "fulfil.read_back",
        "fulfil.check_deadlines",
        "refund.sweep",
        "refund.sweep_amazon",
        "payout.fetch_all",
        "payout.fetch",
        "notifications.sweep",
        "notifications.refresh",
    }
)
# Triggers whose work shows in the tasks they queue (each sync logs its own line when it found
# something): always at DEBUG.
ALWAYS_QUIET: frozenset[str] = frozenset({"ingest.sync_all", "payout.fetch_all"})
# Counts of what a run looked at, not of what it did (a sync re-reads its overlap window, the
# deadline check reads every open order).
LOOKED_AT: frozenset[str] = frozenset(
    {"skipped", "checked", "pages", "orders", "unchanged", "listed"}
)
# Ticks that only move on work their own queue was handed before (a refund's intake, a flush):
# alone on a queue they do not make the supervisor start its lazy worker (``workers.supervisor``).
SELF_SWEEPS: frozenset[str] = frozenset({"refund.sweep", "notifications.sweep"})


# How often beat runs the fulfilment sweeper: with the lease it bounds a dead worker's recovery.
SWEEP_FULFILMENTS_S = 10.0
# How often it runs the refunds' sweeper: a dead worker's feed submission waits this at most
# once its lease has run out.
SWEEP_REFUNDS_S = 10.0


def found_nothing(task_name: str, result: object) -> bool:
    """A housekeeping run with nothing to report: a falsy result, or a report whose counts of
    work done are all zero (or empty)."""
    if task_name not in HOUSEKEEPING:
        return False
    if task_name in ALWAYS_QUIET:
        return True
    if isinstance(result, Mapping):
        return not any(value for key, value in result.items() if key not in LOOKED_AT)
    return not result


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        "sync-all-accounts": {
            "task": "ingest.sync_all",
            "schedule": settings.sync_interval_seconds,
            "options": {"expires": settings.sync_interval_seconds},
        },
        "dispatch-events": {
            "task": "events.dispatch",
            "schedule": 5.0,
            "options": {"expires": 30},
        },
        "deliver-events": {
            "task": "events.deliver",
            "schedule": 5.0,
            "options": {"expires": 30},
        },
        # Fulfilments nobody is sending (a lost message, retries used up, a dead worker). Every
        # 10 s: a dead attempt's fulfilment is free when its 30 s lease runs out
        # (``workers.leases``), so it is queued again within 40 s of the kill, confirmed well
        # within a minute. One indexed query when there is nothing to do.
        "sweep-fulfilments": {
            "task": "fulfil.sweep",
            "schedule": SWEEP_FULFILMENTS_S,
            "options": {"expires": SWEEP_FULFILMENTS_S},
        },
        # Read-backs put off while a seller's getOrder budget (0.5/s) was spent.
        "read-back-fulfilments": {
            "task": "fulfil.read_back",
            "schedule": 10.0,
            "options": {"expires": 10},
        },
        # Refunds and cancellations batched into feeds, and feed submissions nobody is moving
        # on; each submission is leased, so a repeated tick does nothing twice.
        "sweep-refunds": {
            "task": "refund.sweep",
            "schedule": SWEEP_REFUNDS_S,
            "options": {"expires": SWEEP_REFUNDS_S},
        },
        # Refunds made in Seller Central, recorded from Amazon's Finances (0.5 calls a second).
        "sweep-amazon-refunds": {
            "task": "refund.sweep_amazon",
            "schedule": 900.0,
            "options": {"expires": 900},
        },
        # Ship-by warnings: each order's alert is unique, so a repeated tick sends nothing new.
        # Amazon's settlement reports (one per period, about every 14 days): fetched per account.
        "fetch-settlements": {
            "task": "payout.fetch_all",
            "schedule": settings.payout_fetch_interval_seconds,
            "options": {"expires": settings.payout_fetch_interval_seconds},
        },
        # Order refreshes asked by notifications whose drain message was lost; the purge of
        # notifications past their retention.
        "sweep-notifications": {
            "task": "notifications.sweep",
            "schedule": 15.0,
            "options": {"expires": 15},
        },
        "check-ship-by-deadlines": {
            "task": "fulfil.check_deadlines",
            "schedule": 60.0,
            "options": {"expires": 60},
        },
    }
