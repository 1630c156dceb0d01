"""``sync ACCOUNT`` (one window, now) and ``backfill ACCOUNT --since [--until] [--via]``
(history, resumable: by paging searchOrders, or through order reports)."""

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
@click.option(
    "--until",
    default=None,
    help="Date or ISO time, UTC (default now); only with --via reports.",
)
@click.option(
    "--via",
    type=click.Choice(["search", "reports"]),
    default="search",
    show_default=True,
    help="search: page searchOrders (complete orders, slow at Amazon's quota); reports: "
    "order reports, 30 days a report (fast; item ids and a few fields come later).",
)
def backfill(account: str, since: str, until: str | None, via: str) -> None:
    """Import history since a date; resumable (run it again after an interruption)."""
    start = _parse_since(since)
    if via == "reports":
        end = _parse_until(until, start)
        _backfill_from_reports(account, start, end)
        return
    if until is not None:
        fail("--until: only with --via reports (a search backfill runs up to now)")
    _backfill_by_search(account, start)


def _backfill_by_search(account: str, start: datetime) -> None:
    from tqdm import tqdm

    from domain.ingestion import Cursor, SyncReport
    from infra.amazon.errors import AmazonError
    from infra.db.accounts import AccountError
    from workers import bootstrap

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


def _backfill_from_reports(account: str, start: datetime, end: datetime) -> None:
    from domain.ingestion import ReportFailed, SyncReport
    from infra.amazon.errors import AmazonError
    from infra.db.accounts import AccountError
    from workers import bootstrap

    def on_batch(report: SyncReport, marketplace_id: str, window_end: datetime) -> None:
        click.echo(
            f"{marketplace_id} up to {window_end:%Y-%m-%d %H:%M}: {report.orders} orders so far "
            f"({report.created} new, {report.updated} changed, {report.unchanged} unchanged, "
            f"{report.set_aside} set aside)"
        )

    def on_wait(status: str, seconds: float) -> None:
        click.echo(f"  the report is {status}; asking again in {seconds:.0f} s")

    with store():
        click.echo(
            f"backfill via order reports from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
        )
        try:
            report = bootstrap.backfill_from_order_reports(
                account, since=start, until=end, on_batch=on_batch, on_wait=on_wait
            )
        except AccountError as exc:
            fail(str(exc))
        except (AmazonError, ReportFailed) as exc:
            fail(f"{exc}\nthe backfill stopped; run the same command again to resume")
    if report.skipped:
        click.echo(
            f"{report.problems[0]}; nothing done"
            if report.problems
            else "a backfill of this account from this date is already running"
        )
        return
    for problem in report.problems[:20]:
        click.echo(f"  set aside {problem}")
    click.echo(
        f"backfill done: {report.orders} orders, {report.created} new, {report.updated} "
        f"changed, {report.unchanged} unchanged or kept (a fuller copy is stored), "
        f"{report.set_aside} set aside"
    )


def _parse_since(value: str) -> datetime:
    try:
        parsed = parse_utc(value, assume_utc=True)
    except TimeRefused as exc:
        fail(f"--since: {value!r} {exc}: give a date (YYYY-MM-DD) or an ISO time")
    if parsed > datetime.now(UTC):
        fail("--since: the date is in the future")
    return parsed


def _parse_until(value: str | None, since: datetime) -> datetime:
    now = datetime.now(UTC)
    if value is None:
        return now
    try:
        parsed = parse_utc(value, assume_utc=True)
    except TimeRefused as exc:
        fail(f"--until: {value!r} {exc}: give a date (YYYY-MM-DD) or an ISO time")
    if parsed > now:
        fail("--until: the date is in the future")
    if parsed <= since:
        fail("--until: must be after --since")
    return parsed
