"""``payouts list | show ID | export ID --csv FILE``: Amazon's settlements as the store holds them,
each with its statement (what the lines add up to, per kind and per order, and what matches
nothing) in its own currency."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import click

from domain.payouts import SetAsideLine, SettlementLine
from workers.cli.common import fail, store, table
from workers.doors.payouts import LINE_COLUMNS, line_row


@click.group()
def payouts() -> None:
    """Amazon's payouts (settlements), reconciled."""


def _account_id(ref: str | None) -> int | None:
    from infra.db.accounts import AccountError, get_account
    from workers import bootstrap

    if ref is None:
        return None
    try:
        return get_account(bootstrap.container().sessions, ref).id
    except AccountError as exc:
        fail(str(exc))


@payouts.command("list")
@click.option("--account", default=None, help="Name or id.")
@click.option("--state", type=click.Choice(["fetching", "reconciled", "unreconciled"]))
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
def payouts_list(account: str | None, state: str | None, limit: int) -> None:
    """Settlements, oldest first: period, deposit, state."""
    from workers import bootstrap

    with store():
        account_id = _account_id(account)
        payout_store = bootstrap.container().payout_store
        found = payout_store.list_settlements(account_id=account_id, state=state, limit=limit)
        held = payout_store.open_balances(account_id) if account_id is not None else []
    table(
        ["id", "account", "settlement", "period (UTC)", "deposit", "state"],
        [
            [
                str(s.id),
                str(s.account_id),
                s.settlement_id,
                f"{s.period_start:%Y-%m-%d} .. {s.period_end:%Y-%m-%d}",
                str(s.total),
                s.state,
            ]
            for s in found
        ],
    )
    for balance in held:
        since = f" (open since {balance.started_at:%Y-%m-%d})" if balance.started_at else ""
        click.echo(f"not paid out yet: {balance.total}{since}")


@payouts.command("show")
@click.argument("payout_id", type=click.IntRange(1))
def payouts_show(payout_id: int) -> None:
    """One settlement's statement: totals per kind, the check to the cent, per order."""
    from workers import bootstrap

    with store():
        statement = bootstrap.container().payout_store.statement(payout_id)
    if statement is None:
        fail(f"payout_id: no payout {payout_id}")
    s = statement.settlement
    click.echo(
        f"settlement {s.settlement_id} (account {s.account_id}), "
        f"{s.period_start:%Y-%m-%d %H:%M} .. {s.period_end:%Y-%m-%d %H:%M} UTC: {s.state}"
    )
    click.echo(f"deposit {s.total}" + (f" on {s.deposit_date:%Y-%m-%d}" if s.deposit_date else ""))
    if s.totals is not None:
        t = s.totals
        for label, money in (
            ("sales", t.sales), ("refunds", t.refunds), ("fees", t.fees), ("other", t.other),
            ("lines total", t.lines_total), ("difference", t.difference),
        ):  # fmt: skip
            click.echo(f"  {label:<12} {money.amount:>14} {money.currency}")
    for problem in s.problems:
        click.echo(f"  ! {problem}")
    click.echo("")
    table(
        ["order", "charged", "refunds", "fees", "other", "net"],
        [
            [o.amazon_order_id, *(str(m.amount) for m in (o.charged, o.refunds, o.fees, o.other)),
             str(o.net.amount)]
            for o in statement.orders
        ],
    )  # fmt: skip
    if statement.unmatched:
        click.echo("")
        table(
            ["line", "order", "type", "amount", "why"],
            [
                [str(u.line_no), u.order_id or "-", u.transaction_type, str(u.amount), u.reason]
                for u in statement.unmatched
            ],
        )
    for aside in statement.set_aside:
        click.echo(f"  set aside line {aside.line_no}: {aside.reason}")


def _write_csv(out: TextIO, rows: Iterable[SettlementLine | SetAsideLine]) -> int:
    writer = csv.writer(out)
    writer.writerow(LINE_COLUMNS)
    written = 0
    for row in rows:
        cells = line_row(row)
        writer.writerow(cells)
        written += 1
    return written


@payouts.command("export")
@click.argument("payout_id", type=click.IntRange(1))
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write (- for standard output): one row per line of the settlement.",
)
def payouts_export(payout_id: int, csv_path: Path) -> None:
    """Every line of one settlement as CSV (a spreadsheet opens it), streamed from the store."""
    from workers import bootstrap

    with store():
        payout_store = bootstrap.container().payout_store
        found = payout_store.settlement(payout_id)
        if found is None:
            fail(f"payout_id: no payout {payout_id}")
        with payout_store.stored_lines(found.account_id, found.settlement_id) as rows:
            if str(csv_path) == "-":
                written = _write_csv(sys.stdout, rows)
            else:
                with csv_path.open("w", newline="", encoding="utf-8") as out:
                    written = _write_csv(out, rows)
    if str(csv_path) != "-":
        click.echo(f"{written} lines of settlement {found.settlement_id} written to {csv_path}")
