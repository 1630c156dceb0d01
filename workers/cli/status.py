"""``amazon-channel status``: the system's health on one screen, and a probe's exit status.

Each account's sync lag (now minus its watermark) and last success, the messages waiting on
every queue, the failures waiting for a person, the feeds in flight, the late orders and the
outbox's backlog. It exits 1 when something is unhealthy, saying what, so a cron job or a
container's health check can run it; ``--json`` is the same for machines.

Unhealthy: an account that is paused (Login with Amazon refused its credentials); an account
that is synced whose lag is over ``--max-sync-lag`` (or that has never synced in that long);
any failure waiting (a failed fulfilment or refund, a dead webhook delivery, a dead letter); an
event older than ``--max-outbox-age`` not yet delivered; a broker that does not answer. Disabled
and disconnected accounts, late orders and feeds in flight are shown, not judged: a person chose
the first two, and a late order is the seller's to ship.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import click

from domain.fulfilments import DeadlineKind, deadline_kind, late_orders
from workers.cli.common import store, table
from workers.queues import QUEUES


@dataclass
class Health:
    """What was found, and what of it is unhealthy (``problems``) or worth a look (``notes``)."""

    checked_at: datetime
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.problems


def _age(since: datetime | None, now: datetime) -> timedelta | None:
    return None if since is None else max(now - since, timedelta(0))


def _span(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    seconds = int(delta.total_seconds())
    if seconds >= 86_400:
        return f"{seconds // 86_400}d{seconds % 86_400 // 3600:02d}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _accounts(health: Health, status: Any, now: datetime, max_lag: timedelta) -> None:
    rows = []
    for a in status.accounts:
        lag = _age(a.watermark, now)
        if a.status.startswith("paused"):
            health.problems.append(f"account {a.name!r} is {a.status}")
        elif not a.reaches_amazon:
            health.notes.append(f"account {a.name!r} is {a.status}: nothing is synced or sent")
        elif lag is None and now - a.created_at > max_lag:
            health.problems.append(f"account {a.name!r} has never synced ({a.last_error or '-'})")
        elif lag is not None and lag > max_lag:
            health.problems.append(
                f"account {a.name!r}: sync lag {_span(lag)} is over {_span(max_lag)}"
                + (f" (last error: {a.last_error})" if a.last_error else "")
            )
        rows.append(
            {
                "account": a.name,
                "status": a.status,
                "sync_lag_s": None if lag is None else int(lag.total_seconds()),
                "watermark": a.watermark,
                "last_success_at": a.last_success_at,
                "last_error": a.last_error,
            }
        )
    health.sections["accounts"] = rows


def _queues(health: Health, broker_url: str) -> None:
    from infra.broker import QueueProbe

    probe = QueueProbe(broker_url)
    try:
        depths = {queue: probe.depth(queue) for queue in QUEUES}
    finally:
        probe.close()
    if any(depth is None for depth in depths.values()):
        health.problems.append("the broker does not answer: queue depths unknown")
    health.sections["queues"] = depths


def _failures(health: Health, status: Any) -> None:
    failures = {
        "fulfilments_failed": status.failed_fulfilments,
        "refunds_failed": status.failed_refunds,
        "webhook_deliveries_dead": status.dead_deliveries,
        "dead_letters": status.dead_letters,
    }
    waiting = sum(n for n in failures.values() if n)
    if waiting:
        named = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in failures.items() if n)
        health.problems.append(f"{waiting} failure(s) waiting: {named}")
    health.sections["failures"] = {"waiting": waiting, **failures}


def _outbox(
    health: Health, status: Any, now: datetime, max_age: timedelta, subscribers: bool
) -> None:
    # With no subscriber anywhere, events wait in the outbox for the first one: not a backlog.
    counted = subscribers or status.dead_deliveries > 0 or status.undelivered_events.count > 0
    oldest = [status.undelivered_events.oldest_at]
    if counted:
        oldest.append(status.undispatched_events.oldest_at)
    known = [moment for moment in oldest if moment is not None]
    age = _age(min(known), now) if known else None
    if age is not None and age > max_age:
        health.problems.append(f"outbox: the oldest undelivered event is {_span(age)} old")
    if not counted and status.undispatched_events.count:
        health.notes.append(
            f"{status.undispatched_events.count} event(s) wait for a subscriber (WEBHOOK_URLS)"
        )
    health.sections["outbox"] = {
        "undispatched": status.undispatched_events.count,
        "undelivered": status.undelivered_events.count,
        "oldest_undelivered_age_s": None if age is None else int(age.total_seconds()),
        "subscribers_configured": subscribers,
    }


def _late(health: Health, now: datetime, window: timedelta) -> None:
    from workers import bootstrap

    due = late_orders(bootstrap.container().fulfilment_store.open_orders_due_by(now + window))
    missed = [o for o in due if deadline_kind(o.ship_by_latest, now, window) is DeadlineKind.MISSED]
    if missed:
        health.notes.append(f"{len(missed)} order(s) past their ship-by date (orders late)")
    health.sections["late_orders"] = {
        "missed": len(missed),
        "due_soon": len(due) - len(missed),
        "window_hours": window.total_seconds() / 3600,
    }


def _notifications(health: Health, status: Any, now: datetime) -> None:
    """The gap audit, shown, not judged: a notification Amazon dropped is what the sync is for
    (the counts say how often it had to be)."""
    rows = []
    for n in status.notifications:
        if n.sync_only or n.notification_only:
            health.notes.append(
                f"account {n.account!r}: {n.sync_only} order change(s) found by the sync only, "
                f"{n.notification_only} notified but never found by the sync"
            )
        if n.deferred_refreshes:
            health.notes.append(
                f"account {n.account!r}: {n.deferred_refreshes} order refresh(es) left to the "
                "next sync window (more than getOrder's budget serves first)"
            )
        rows.append(
            {
                "account": n.account,
                "last_notification_age_s": None
                if n.last_received_at is None
                else int(max(now - n.last_received_at, timedelta(0)).total_seconds()),
                "pending_refreshes": n.pending_refreshes,
                "deferred_refreshes": n.deferred_refreshes,
                "sync_only": n.sync_only,
                "notification_only": n.notification_only,
            }
        )
    health.sections["notifications"] = rows


def gather(max_lag: timedelta, max_outbox_age: timedelta) -> Health:
    """Everything ``status`` shows, read from the running system."""
    from infra.db.status import store_status
    from workers import bootstrap

    with store() as ready:
        c = bootstrap.container()
        now = c.clock.now()
        health = Health(checked_at=now)
        found = store_status(c.engine, c.sessions)
        _accounts(health, found, now, max_lag)
        _queues(health, ready.broker_url)
        _failures(health, found)
        feeds = found.feeds_in_flight
        health.sections["feeds_in_flight"] = {
            "count": feeds.count,
            "oldest_age_s": None
            if feeds.oldest_at is None
            else int((now - feeds.oldest_at).total_seconds()),
        }
        _late(health, now, timedelta(hours=ready.ship_by_warning_hours))
        _outbox(health, found, now, max_outbox_age, bool(ready.webhook_url_list()))
        _notifications(health, found, now)
    health.sections["thresholds"] = {
        "max_sync_lag_s": int(max_lag.total_seconds()),
        "max_outbox_age_s": int(max_outbox_age.total_seconds()),
    }
    return health


def _print(health: Health) -> None:
    s = health.sections
    verdict = "healthy" if health.healthy else "UNHEALTHY"
    click.echo(f"amazon-channel status at {_when(health.checked_at)} UTC: {verdict}\n")
    table(
        ["account", "status", "sync lag", "last success (UTC)", "last error"],
        [
            [
                a["account"],
                a["status"],
                "-" if a["sync_lag_s"] is None else _span(timedelta(seconds=a["sync_lag_s"])),
                _when(a["last_success_at"]),
                (a["last_error"] or "-")[:60],
            ]
            for a in s["accounts"]
        ],
    )
    queues = "  ".join(f"{q} {'?' if n is None else n}" for q, n in s["queues"].items())
    f = s["failures"]
    dead_letters = "-" if f["dead_letters"] is None else f["dead_letters"]
    feeds = s["feeds_in_flight"]
    late = s["late_orders"]
    out = s["outbox"]
    oldest = out["oldest_undelivered_age_s"]
    click.echo(f"\nqueues (messages waiting): {queues}")
    click.echo(
        f"failures waiting: {f['waiting']} (fulfilments failed {f['fulfilments_failed']}, "
        f"refunds failed {f['refunds_failed']}, webhook deliveries dead "
        f"{f['webhook_deliveries_dead']}, dead letters {dead_letters})"
    )
    feed_age = feeds["oldest_age_s"]
    click.echo(
        f"feeds in flight: {feeds['count']}"
        + ("" if feed_age is None else f" (oldest {_span(timedelta(seconds=feed_age))})")
    )
    click.echo(
        f"late orders: {late['missed']} past ship-by, {late['due_soon']} due within "
        f"{late['window_hours']:g}h"
    )
    click.echo(
        f"outbox: {out['undispatched']} event(s) not dispatched, {out['undelivered']} "
        f"not delivered (oldest {_span(None if oldest is None else timedelta(seconds=oldest))})"
    )
    if any(n["last_notification_age_s"] is not None for n in s["notifications"]):
        click.echo("\nnotifications (gap audit: changes seen by one path only)")
        table(
            ["account", "last notification", "refreshes", "left to sync", "sync only",
             "notified only"],
            [
                [
                    n["account"],
                    _span(None if n["last_notification_age_s"] is None
                          else timedelta(seconds=n["last_notification_age_s"])) + " ago",
                    n["pending_refreshes"],
                    n["deferred_refreshes"],
                    n["sync_only"],
                    n["notification_only"],
                ]
                for n in s["notifications"]
            ],
        )  # fmt: skip
    for title, lines in (("unhealthy", health.problems), ("notes", health.notes)):
        if lines:
            click.echo(f"\n{title}:")
            for line in lines:
                click.echo(f"  - {line}")


@click.command()
@click.option(
    "--max-sync-lag",
    type=click.IntRange(1, 10_000),
    default=15,
    show_default=True,
    help="Minutes an account's sync may lag before it is unhealthy.",
)
@click.option(
    "--max-outbox-age",
    type=click.IntRange(1, 10_000),
    default=10,
    show_default=True,
    help="Minutes an event may wait undelivered before it is unhealthy.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of the screen.")
def status(max_sync_lag: int, max_outbox_age: int, as_json: bool) -> None:
    """The system's health; exits 1 when something is unhealthy (a probe)."""
    health = gather(timedelta(minutes=max_sync_lag), timedelta(minutes=max_outbox_age))
    if as_json:
        body = {"healthy": health.healthy, **asdict(health)}
        click.echo(json.dumps(body, indent=2, default=_iso))
    else:
        _print(health)
    sys.exit(0 if health.healthy else 1)


def _iso(value: object) -> str:
    """JSON for what json does not know: times in ISO 8601, anything else as text."""
    return value.isoformat() if isinstance(value, datetime) else str(value)
