"""Beat's schedule: triggers only. Each task guards itself (advisory locks, leases), so a tick
repeated by a beat fail-over is harmless."""

from __future__ import annotations

from typing import Any

from infra.settings import Settings


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
        # Fulfilments nobody is sending (a lost message, retries used up, a dead worker).
        "sweep-fulfilments": {
            "task": "fulfil.sweep",
            "schedule": 30.0,
            "options": {"expires": 30},
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
            "schedule": 10.0,
            "options": {"expires": 10},
        },
        # Refunds made in Seller Central, recorded from Amazon's Finances (0.5 calls a second).
        "sweep-amazon-refunds": {
            "task": "refund.sweep_amazon",
            "schedule": 900.0,
            "options": {"expires": 900},
        },
        # Ship-by warnings: each order's alert is unique, so a repeated tick sends nothing new.
        "check-ship-by-deadlines": {
            "task": "fulfil.check_deadlines",
            "schedule": 60.0,
            "options": {"expires": 60},
        },
    }
