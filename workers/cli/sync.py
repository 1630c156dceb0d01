"""``sync ACCOUNT`` (one window, now) and ``backfill ACCOUNT --since`` (history, resumable)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from domain.shared import TimeRefused, parse_utc
from workers.cli.common import fail, store

# A person who asks for a sync now wants one that starts after the running one: wait this long
# for a sync of the account that a worker is running to end, then run ours.
WAIT_FOR_RUNNING_SYNC_S = 120.0


@click.command()
@click.argument("account")
def sync(account: str) -> None:
    """Sync one account's orders once, now (after a sync a worker is running, if any)."""
    from infra.amazon.errors import AmazonError
    from infra.db.accounts import AccountError
    from workers import bootstrap

    with store():
        deadline = time.monotonic() + WAIT_FOR_RUNNING_SYNC_S
        said = False
        while True:
            try:
                report = bootstrap.sync_account(account)
            except (AccountError, AmazonError) as exc:
                fail(str(exc))
            running = report.skipped and not report.problems
            if not running or time.monotonic() > deadline:
                break
            if not said:
                click.echo("another sync of this account is running; waiting for it to end")
                said = True
            time.sleep(0.5)
    if report.skipped:  # paused, disabled, disconnected, or another sync held the lock
        click.echo(
            f"{report.problems[0]}; nothing done"
            if report.problems
            else "another sync of this account is still running; nothing done"
        )
        return
    click.echo(
        f"{report.orders} orders in {report.pages} pages: {report.created} new, "
        f"{report.updated} changed, {report.unchanged} unchanged, {report.set_aside} set aside"
    )
    for problem in report.problems[:20]:
        click.echo(f"  set aside {problem}")


@click.command()
@click.argument("account")
@click.option("--since", required=True, help="Date (YYYY-MM-DD) or ISO time, UTC.")
def backfill(account: str, since: str) -> None:
    """Import history since a date; resumable (run it again after an interruption)."""
    from tqdm import tqdm

    from domain.ingestion import Cursor, SyncReport
    from infra.amazon.errors import AmazonError
    from infra.db.accounts import AccountError
    from workers import bootstrap

    start = _parse_since(since)
    with store():
        progress = tqdm(unit=" orders", desc="backfill", dynamic_ncols=True)

        def on_page(report: SyncReport, cursor: Cursor) -> None:
            progress.update(report.orders - progress.n)
            progress.set_postfix(pages=report.pages, new=report.created, aside=report.set_aside)

        try:
            report = bootstrap.sync_account(account, scope="backfill", start=start, on_page=on_page)
        except (AccountError, AmazonError) as exc:
            progress.close()
            fail(f"{exc}\nthe backfill stopped; run the same command again to resume")
        finally:
            progress.close()
    if report.skipped:
        click.echo("a backfill of this account is already running")
        return
    click.echo(f"backfill done: {report.orders} orders, {report.created} new")


def _parse_since(value: str) -> datetime:
    try:
        parsed = parse_utc(value, assume_utc=True)
    except TimeRefused as exc:
        fail(f"--since: {value!r} {exc}: give a date (YYYY-MM-DD) or an ISO time")
    if parsed > datetime.now(UTC):
        fail("--since: the date is in the future")
    return parsed
