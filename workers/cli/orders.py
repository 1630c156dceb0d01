"""``orders list|show|set-aside|late|timeline``: the orders in the store, those near or past
their ship-by date, and one order's whole history (``infra.db.timeline``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import click

from domain.fulfilments import DeadlineKind, deadline_kind, late_orders
from workers.cli.common import fail, store, table


@click.group()
def orders() -> None:
    """Orders in the store."""


@orders.command("list")
@click.option("--account", default=None)
@click.option("--status", default=None)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option(
    "--to-ship",
    is_flag=True,
    help="Only what a fulfilment can be sent for: merchant-fulfilled, units to ship, "
    "no buyer cancellation request.",
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of a table.")
def orders_list(
    account: str | None, status: str | None, limit: int, to_ship: bool, as_json: bool
) -> None:
    """The most recently updated orders."""
    from infra.db.orders import recent_orders
    from workers import bootstrap

    with store():
        rows = recent_orders(
            bootstrap.container().sessions, account, status, limit, to_ship=to_ship
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    table(
        ["account", "amazon order", "status", "by", "marketplace", "total", "purchased", "flags"],
        [
            [
                r["account"],
                r["amazon_order_id"],
                r["status"],
                r["fulfilled_by"],
                r["marketplace_id"],
                f"{r['order_total'] or '-'} {r['currency'] or ''}".strip(),
                r["purchased_at"].strftime("%Y-%m-%d %H:%M"),
                r["flags"],
            ]
            for r in rows
        ],
    )


@orders.command("show")
@click.argument("amazon_order_id")
def orders_show(amazon_order_id: str) -> None:
    """One order with its items."""
    from infra.db.orders import order_detail
    from workers import bootstrap

    with store():
        detail = order_detail(bootstrap.container().sessions, amazon_order_id)
    if detail is None:
        fail(f"amazon_order_id: no order {amazon_order_id!r} in the store")
    click.echo(json.dumps(detail, indent=2, default=str))


@orders.command("set-aside")
def orders_set_aside() -> None:
    """Orders the sync could not store, with the reason (fix on Amazon's side or in code)."""
    from infra.db.orders import set_aside_orders
    from workers import bootstrap

    with store():
        rows = set_aside_orders(bootstrap.container().sessions)
    table(
        ["account", "amazon order", "reason", "seen", "last seen"],
        [
            [str(r["account_id"]), r["amazon_order_id"], r["reason"], str(r["times_seen"]),
             r["last_seen_at"].strftime("%Y-%m-%d %H:%M")]
            for r in rows
        ],
    )  # fmt: skip


def _left(ship_by: datetime, now: datetime) -> str:
    minutes = int((ship_by - now).total_seconds() // 60)
    sign, minutes = ("-", -minutes) if minutes < 0 else ("", minutes)
    return f"{sign}{minutes // 60}h{minutes % 60:02d}m"


@orders.command("late")
@click.option(
    "--hours", type=float, default=None, help="Warning window (default SHIP_BY_WARNING_HOURS)."
)
def late(hours: float | None) -> None:
    """Merchant-fulfilled orders past or near their ship-by date with items still to ship."""
    from workers import bootstrap

    with store() as ready:
        window = timedelta(hours=ready.ship_by_warning_hours if hours is None else hours)
        now = bootstrap.container().clock.now()
        due = late_orders(bootstrap.container().fulfilment_store.open_orders_due_by(now + window))
    rows = []
    for order in due:
        kind = deadline_kind(order.ship_by_latest, now, window)
        rows.append(
            [
                str(order.account_id),
                order.amazon_order_id,
                order.status,
                order.ship_by_latest.strftime("%Y-%m-%d %H:%M"),
                _left(order.ship_by_latest, now),
                str(order.quantity_remaining),
                "MISSED" if kind is DeadlineKind.MISSED else "soon",
            ]
        )
    table(["account", "amazon order", "status", "ship by (UTC)", "left", "unshipped", ""], rows)


@orders.command("timeline")
@click.argument("amazon_order_id")
@click.option("--account", default=None, help="Name or id, when the order is in several.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
def timeline(amazon_order_id: str, account: str | None, as_json: bool) -> None:
    """Everything that happened to one order, in time order, with the reason for each failure:
    its changes, fulfilments, refunds, feeds, SP-API calls (HTTP status and Amazon's request
    id), events and webhook delivery attempts."""
    from infra.db.timeline import AmbiguousOrder, order_timeline
    from workers import bootstrap

    with store():
        try:
            found = order_timeline(bootstrap.container().engine, amazon_order_id, account)
        except AmbiguousOrder as exc:
            fail(f"amazon_order_id: {exc}")
    if found is None:
        where = f" of account {account!r}" if account else ""
        fail(f"amazon_order_id: nothing in the store names order {amazon_order_id!r}{where}")
    if as_json:
        click.echo(json.dumps(asdict(found), indent=2, default=_iso))
        return
    order = found.order
    summary = (
        f"{order['status']}, {order['fulfilled_by']}, ship by "
        + (f"{order['ship_by_latest']:%Y-%m-%d %H:%M} UTC" if order["ship_by_latest"] else "-")
        if order
        else "not in the store"
    )
    click.echo(f"order {found.amazon_order_id} (account {found.account}): {summary}")
    for entry in found.entries:
        mark = "!" if entry.failed else " "
        at = f"{entry.at.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"[:-3]
        click.echo(f"{at} {mark} {entry.kind:<10} {entry.what}")
        extra = _timeline_extra(entry.details)
        if extra:
            click.echo(f"{'':<26}{extra}")
        if entry.reason:
            click.echo(f"{'':<26}reason: {entry.reason}")


def _timeline_extra(details: dict[str, object]) -> str:
    """The request id and the task of an SP-API call, the subscriber's delivery state."""
    parts = []
    if details.get("request_id"):
        parts.append(f"request id {details['request_id']}")
    if details.get("task"):
        parts.append(f"by {details['task']} [{details.get('task_id')}]")
    return ", ".join(parts)


def _iso(value: object) -> str:
    """JSON for what json does not know: times in ISO 8601, anything else as text."""
    return value.isoformat() if isinstance(value, datetime) else str(value)
