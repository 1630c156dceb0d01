"""The fulfilment commands: ``fulfil`` (the third door), ``fulfilments list|show|retry|rejected``
and ``orders late``. ``workers.cli`` adds them to its groups at its end.

The shared helpers of ``workers.cli`` (``_store``, ``_table``) are imported when a command runs,
not at import, so this module and ``workers.cli`` do not import each other while loading.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from typing import Any

import click

from domain.fulfilments import (
    Accepted,
    DeadlineKind,
    Rejected,
    deadline_kind,
    late_orders,
)


def _refuse(result: Rejected) -> None:
    for error in result.errors:
        click.echo(f"error: {error.field}: {error.reason}", err=True)
    sys.exit(2)


def _parse_line(value: str, name: str) -> dict[str, Any]:
    ref, sep, quantity = value.rpartition("=")
    if not sep or not ref or not quantity.isdigit():
        raise click.BadParameter(f"{value!r}: expected {name.upper()}=QUANTITY", param_hint=name)
    return {name: ref, "quantity": int(quantity)}


def _left(ship_by: datetime, now: datetime) -> str:
    minutes = int((ship_by - now).total_seconds() // 60)
    sign, minutes = ("-", -minutes) if minutes < 0 else ("", minutes)
    return f"{sign}{minutes // 60}h{minutes % 60:02d}m"


@click.command("fulfil")
@click.argument("account")
@click.argument("amazon_order_id")
@click.option("--id", "platform_fulfilment_id", required=True, help="The store's fulfilment id.")
@click.option("--shipped-at", required=True, help="When it shipped: ISO 8601 with its zone.")
@click.option("--carrier", "carrier_code", required=True, help="Amazon's carrier code, or Other.")
@click.option("--carrier-name", default=None, help="The carrier's name (with Other).")
@click.option("--method", "shipping_method", default=None, help="Shipping method (optional).")
@click.option("--tracking", "tracking_number", required=True, help="The tracking number.")
@click.option("--item", "items", multiple=True, help="ORDER_ITEM_ID=QUANTITY (repeatable).")
@click.option("--sku", "skus", multiple=True, help="SKU=QUANTITY (repeatable).")
@click.option(
    "--cancellation-request-reviewed",
    is_flag=True,
    help="Ship although the buyer asked to cancel (after checking Seller Central).",
)
def fulfil(
    account: str,
    amazon_order_id: str,
    platform_fulfilment_id: str,
    shipped_at: str,
    carrier_code: str,
    carrier_name: str | None,
    shipping_method: str | None,
    tracking_number: str,
    items: tuple[str, ...],
    skus: tuple[str, ...],
    cancellation_request_reviewed: bool,
) -> None:
    """Confirm a store fulfilment (one package) on Amazon; no --item/--sku: all that remains."""
    from workers import cli as base
    from workers import producer

    request = {
        "account": account,
        "amazon_order_id": amazon_order_id,
        "platform_fulfilment_id": platform_fulfilment_id,
        "shipped_at": shipped_at,
        "carrier_code": carrier_code,
        "carrier_name": carrier_name,
        "shipping_method": shipping_method,
        "tracking_number": tracking_number,
        "lines": [_parse_line(v, "order_item_id") for v in items]
        + [_parse_line(v, "sku") for v in skus],
        "cancellation_request_reviewed": cancellation_request_reviewed,
    }
    with base._store():
        result = producer.submit_fulfilment(request)
    if isinstance(result, Rejected):
        _refuse(result)
        return
    f = result.fulfilment
    shipped = ", ".join(f"{line.quantity} x {line.sku or line.order_item_id}" for line in f.lines)
    if result.created:
        click.echo(
            f"accepted fulfilment {f.id} (package {f.package_reference_id}) of "
            f"{f.amazon_order_id}: {shipped}; queued for confirmation on Amazon"
        )
    else:
        click.echo(f"already accepted as fulfilment {f.id} ({f.state})")


@click.group("fulfilments")
def fulfilments() -> None:
    """Fulfilments sent to Amazon: their state, failures and retries."""


@fulfilments.command("list")
@click.option("--failed", is_flag=True, help="Only the failed ones (with the reason).")
@click.option(
    "--state", type=click.Choice(["accepted", "sending", "confirmed", "failed"]), default=None
)
@click.option("--account", default=None)
@click.option("--limit", type=int, default=50, show_default=True)
def fulfilments_list(failed: bool, state: str | None, account: str | None, limit: int) -> None:
    """The most recent fulfilments."""
    from workers import cli as base
    from workers import producer

    with base._store():
        rows = producer.fulfilment_store().listing(
            state="failed" if failed else state, account=account, limit=limit
        )
    base._table(
        [
            "id",
            "account",
            "amazon order",
            "platform id",
            "state",
            "shipped",
            "tries",
            "reason / Amazon",
        ],
        [
            [
                str(r["id"]),
                r["account"],
                r["amazon_order_id"],
                r["platform_fulfilment_id"],
                r["state"],
                r["shipped_at"].strftime("%Y-%m-%d %H:%M"),
                str(r["attempts"]),
                _reason(r),
            ]
            for r in rows
        ],
    )


def _reason(row: dict[str, Any]) -> str:
    if row["failure_code"]:
        return f"{row['failure_code']}: {row['reason']}"
    if row["state"] == "confirmed":  # Amazon's view read back (a read error is not a failure)
        return str(row["amazon"] or "")
    return str(row["reason"] or "")


@fulfilments.command("show")
@click.argument("fulfilment_id", type=int)
def fulfilments_show(fulfilment_id: int) -> None:
    """One fulfilment, as the platform's API shows it."""
    from workers import api, producer
    from workers import cli as base

    with base._store():
        found = producer.fulfilment_store().get(fulfilment_id)
    if found is None:
        base._fail(f"fulfilment_id: no fulfilment {fulfilment_id}")
        return
    click.echo(json.dumps(api.fulfilment_out(found), indent=2))


@fulfilments.command("retry")
@click.argument("fulfilment_id", type=int)
@click.option(
    "--cancellation-request-reviewed",
    is_flag=True,
    help="Ship although the buyer asked to cancel (after checking Seller Central).",
)
def fulfilments_retry(fulfilment_id: int, cancellation_request_reviewed: bool) -> None:
    """Send a failed fulfilment again, after fixing what Amazon refused."""
    from workers import cli as base
    from workers import producer

    with base._store():
        result = producer.retry_failed(
            fulfilment_id, cancellation_request_reviewed=cancellation_request_reviewed
        )
    if isinstance(result, Rejected):
        _refuse(result)
        return
    assert isinstance(result, Accepted)
    if result.created:
        click.echo(f"fulfilment {fulfilment_id} accepted again; queued for confirmation")
    else:
        click.echo(f"fulfilment {fulfilment_id} was retried already ({result.fulfilment.state})")


@fulfilments.command("rejected")
@click.option("--limit", type=int, default=50, show_default=True)
def fulfilments_rejected(limit: int) -> None:
    """Requests from the queue that were refused, with the reasons."""
    from workers import cli as base
    from workers import producer

    with base._store():
        rows = producer.fulfilment_store().rejections(limit)
    base._table(
        ["id", "account", "amazon order", "platform id", "seen", "reasons"],
        [
            [
                str(r["id"]),
                r["account"] or "",
                r["amazon_order_id"] or "",
                r["platform_fulfilment_id"] or "",
                str(r["times_seen"]),
                "; ".join(f"{e['field']}: {e['reason']}" for e in r["errors"]),
            ]
            for r in rows
        ],
    )


@click.command("late")
@click.option(
    "--hours", type=float, default=None, help="Warning window (default SHIP_BY_WARNING_HOURS)."
)
def late(hours: float | None) -> None:
    """Merchant-fulfilled orders past or near their ship-by date with items still to ship."""
    from infra.clock import SystemClock
    from workers import cli as base
    from workers import producer

    with base._store() as ready:
        window = timedelta(hours=ready.ship_by_warning_hours if hours is None else hours)
        now = SystemClock().now()
        due = late_orders(producer.fulfilment_store().open_orders_due_by(now + window))
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
    base._table(
        ["account", "amazon order", "status", "ship by (UTC)", "left", "unshipped", ""], rows
    )
