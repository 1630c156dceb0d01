"""Ship-by deadlines: warn before an order's ship-by date passes and say when it has, once per
order and kind; and the orders an operator must act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.fulfilments.model import DeadlineAlert, DeadlineKind, OpenOrder
from domain.fulfilments.ports import DeadlineStore
from domain.shared import Clock


def deadline_kind(
    ship_by_latest: datetime | None, now: datetime, warning: timedelta
) -> DeadlineKind | None:
    if ship_by_latest is None:
        return None
    if ship_by_latest <= now:
        return DeadlineKind.MISSED
    if ship_by_latest - now <= warning:
        return DeadlineKind.APPROACHING
    return None


@dataclass
class DeadlineReport:
    skipped: bool = False
    checked: int = 0
    approaching: int = 0
    missed: int = 0


def late_orders(orders: Sequence[OpenOrder]) -> list[OpenOrder]:
    """Orders with something left to ship, most urgent first (what the operator must act on:
    an order our fulfilments already cover is on its way to Amazon)."""
    return sorted(
        (o for o in orders if o.quantity_remaining > 0),
        key=lambda o: (o.ship_by_latest, o.amazon_order_id),
    )


def check_deadlines(store: DeadlineStore, clock: Clock, warning: timedelta) -> DeadlineReport:
    """Warn before the ship-by date passes, and say when it has: once per order and kind.
    Safe to run twice and at once (a second check waits its turn or skips; alerts are unique)."""
    report = DeadlineReport()
    with store.deadline_lock() as locked:
        if not locked:
            report.skipped = True
            return report
        now = clock.now()
        due = late_orders(store.open_orders_due_by(now + warning))
        alerts = []
        for order in due:
            kind = deadline_kind(order.ship_by_latest, now, warning)
            if kind is not None:
                alerts.append(DeadlineAlert(order, kind))
        report.checked = len(due)
        new = store.record_alerts(alerts, now)
        report.approaching = sum(1 for a in new if a.kind is DeadlineKind.APPROACHING)
        report.missed = len(new) - report.approaching
    return report
