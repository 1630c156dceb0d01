"""``amazon-channel``: the command line for operators, developers and the Procfile.

Every command that needs the store starts the embedded servers when no URLs are configured
(reusing the ones ``amazon-channel run`` keeps up), so each works on a fresh machine.
Errors are one line naming the field and the reason, with exit status 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import click

from infra.logging import configure_logging
from infra.settings import Settings, load_settings


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    return settings


@contextlib.contextmanager
def _store() -> Iterator[Settings]:
    """Settings with live services and this process's container pointed at them."""
    from infra.db import migrate
    from workers import compose
    from workers.supervisor import services

    with services(_settings()) as ready:
        migrate.upgrade(ready.database_url)
        compose.use(ready)
        try:
            yield ready
        finally:
            compose.reset_and_close()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
def main() -> None:
    """amazon-channel: Amazon orders into the store, fulfilments and refunds back to Amazon."""


# --- the whole system ----------------------------------------------------------------------


@main.command()
def run() -> None:
    """Start everything: embedded services, the sandbox, beat, workers, web and Flower."""
    from workers.supervisor import run_all

    sys.exit(run_all(_settings()))


@main.command()
@click.option("--orders", "count", default=40, show_default=True, help="Orders to create.")
def demo(count: int) -> None:
    """A finite scripted run against the sandbox: create, sync, change, sync, summarise."""
    from workers.demo import run_demo

    with _store() as ready:
        sys.exit(run_demo(ready, count))


@main.command()
@click.option("--host", default=None, help="Interface (default SANDBOX_HOST).")
@click.option("--port", type=int, default=None, help="Port (default SANDBOX_PORT).")
@click.option(
    "--rate-factor", type=float, default=None, help="Multiplies Amazon's rates; 0 lifts them."
)
@click.option("--demo-orders-per-minute", type=float, default=0.0, show_default=True)
def sandbox(
    host: str | None, port: int | None, rate_factor: float | None, demo_orders_per_minute: float
) -> None:
    """Serve the Amazon sandbox (SP-API and Login with Amazon) over HTTP."""
    from infra.amazon.sandbox.server import serve

    settings = _settings()
    serve(
        host or settings.sandbox_host,
        port or settings.sandbox_port,
        rate_factor=settings.sandbox_rate_factor if rate_factor is None else rate_factor,
        demo_orders_per_minute=demo_orders_per_minute,
    )


# --- the Procfile's processes --------------------------------------------------------------


def _exec_celery(args: list[str]) -> None:
    argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", *args]
    os.execv(sys.executable, argv)  # noqa: S606 (our own interpreter, fixed arguments)


@main.command()
@click.argument("queue", type=click.Choice(["ingest", "fulfil", "refund", "payout", "events"]))
@click.option("--concurrency", "-c", type=int, default=1, show_default=True)
def worker(queue: str, concurrency: int) -> None:
    """A Celery worker for one queue."""
    settings = _settings()
    _exec_celery(
        [
            "worker",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "-c",
            str(concurrency),
            "--loglevel",
            settings.log_level,
            "-E",
        ]
    )


@main.command()
def beat() -> None:
    """Celery beat (RedBeat: one active scheduler, guarded by a Redis lock)."""
    _exec_celery(["beat", "--loglevel", _settings().log_level])


@main.command()
def flower() -> None:
    """Flower, the operators' view of tasks and workers."""
    settings = _settings()
    _exec_celery(["flower", f"--port={settings.flower_port}", "--address=127.0.0.1"])


@main.command()
def web() -> None:
    """The web process: health, metrics and the platform's API."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "workers.web:create_app",
        factory=True,
        host=settings.web_host,
        port=settings.web_port,
        workers=settings.web_workers,
        log_level=settings.log_level.lower(),
    )


# --- the store ------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (run also does this on start)."""
    with _store():
        click.echo("database is at the latest revision")


@main.group()
def accounts() -> None:
    """Seller accounts."""


@accounts.command("add")
@click.argument("name")
@click.option("--seller-id", required=True, help="The selling partner id (merchant token).")
@click.option("--region", type=click.Choice(["NA", "EU", "FE", "SANDBOX"]), required=True)
@click.option("--marketplace", "marketplaces", multiple=True, required=True, help="Repeatable.")
@click.option("--client-id", default=None, help="LWA client id, if not LWA_CLIENT_ID.")
@click.option(
    "--refresh-token",
    envvar="LWA_REFRESH_TOKEN",
    prompt=True,
    hide_input=True,
    help="LWA refresh token (or LWA_REFRESH_TOKEN; prompted when missing, never echoed).",
)
def accounts_add(
    name: str,
    seller_id: str,
    region: str,
    marketplaces: tuple[str, ...],
    client_id: str | None,
    refresh_token: str,
) -> None:
    """Add a seller account."""
    from infra.db.accounts import AccountError, add_account
    from workers import compose

    with _store():
        try:
            account = add_account(
                compose.container().sessions,
                name=name,
                selling_partner_id=seller_id,
                region=region,
                marketplace_ids=list(marketplaces),
                refresh_token=refresh_token,
                client_id=client_id,
            )
        except AccountError as exc:
            _fail(str(exc))
            return
        click.echo(f"added account {account.id} ({account.name})")


@accounts.command("list")
def accounts_list() -> None:
    """List seller accounts (credentials are never shown)."""
    from infra.db.accounts import list_accounts
    from workers import compose

    with _store():
        rows = [
            [str(a.id), a.name, a.selling_partner_id, a.region, ",".join(a.marketplace_ids)]
            for a in list_accounts(compose.container().sessions)
        ]
    _table(["id", "name", "seller", "region", "marketplaces"], rows)


@main.command()
@click.argument("account")
def sync(account: str) -> None:
    """Sync one account's orders once, now."""
    from infra.amazon.errors import AmazonError
    from infra.db.accounts import AccountError
    from workers import compose

    with _store():
        try:
            report = compose.sync_account(account)
        except (AccountError, AmazonError) as exc:
            _fail(str(exc))
            return
    if report.skipped:
        click.echo("another sync of this account is running; nothing done")
        return
    click.echo(
        f"{report.orders} orders in {report.pages} pages: {report.created} new, "
        f"{report.updated} changed, {report.unchanged} unchanged, {report.set_aside} set aside"
    )
    for problem in report.problems[:20]:
        click.echo(f"  set aside {problem}")


@main.command()
@click.argument("account")
@click.option("--since", required=True, help="Date (YYYY-MM-DD) or ISO time, UTC.")
def backfill(account: str, since: str) -> None:
    """Import history since a date; resumable (run it again after an interruption)."""
    from tqdm import tqdm

    from domain.ingestion import Cursor, SyncReport
    from infra.amazon.errors import AmazonError
    from infra.db.accounts import AccountError
    from workers import compose

    start = _parse_since(since)
    with _store():
        progress = tqdm(unit=" orders", desc="backfill", dynamic_ncols=True)

        def on_page(report: SyncReport, cursor: Cursor) -> None:
            progress.update(report.orders - progress.n)
            progress.set_postfix(pages=report.pages, new=report.created, aside=report.set_aside)

        try:
            report = compose.sync_account(account, scope="backfill", start=start, on_page=on_page)
        except (AccountError, AmazonError) as exc:
            progress.close()
            _fail(f"{exc}\nthe backfill stopped; run the same command again to resume")
            return
        finally:
            progress.close()
    if report.skipped:
        click.echo("a backfill of this account is already running")
        return
    click.echo(f"backfill done: {report.orders} orders, {report.created} new")


def _parse_since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--since: {value!r} is not a date (YYYY-MM-DD) or ISO time")
        raise
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed > datetime.now(UTC):
        _fail("--since: the date is in the future")
    return parsed


@main.group()
def orders() -> None:
    """Orders in the store."""


@orders.command("list")
@click.option("--account", default=None)
@click.option("--status", default=None)
@click.option("--limit", type=int, default=50, show_default=True)
def orders_list(account: str | None, status: str | None, limit: int) -> None:
    """The most recently updated orders."""
    from infra.db.queries import recent_orders
    from workers import compose

    with _store():
        rows = recent_orders(compose.container().sessions, account, status, limit)
    _table(
        ["amazon order", "status", "by", "marketplace", "total", "purchased", "flags"],
        [
            [
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
    import json

    from infra.db.queries import order_detail
    from workers import compose

    with _store():
        detail = order_detail(compose.container().sessions, amazon_order_id)
    if detail is None:
        _fail(f"amazon_order_id: no order {amazon_order_id!r} in the store")
        return
    click.echo(json.dumps(detail, indent=2, default=str))


@orders.command("set-aside")
def orders_set_aside() -> None:
    """Orders the sync could not store, with the reason (fix on Amazon's side or in code)."""
    from infra.db.queries import set_aside_orders
    from workers import compose

    with _store():
        rows = set_aside_orders(compose.container().sessions)
    _table(
        ["account", "amazon order", "reason", "seen", "last seen"],
        [
            [str(r["account_id"]), r["amazon_order_id"], r["reason"], str(r["times_seen"]),
             r["last_seen_at"].strftime("%Y-%m-%d %H:%M")]
            for r in rows
        ],
    )  # fmt: skip


def _table(headers: list[str], rows: list[list[Any]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(str(cell))) for w, cell in zip(widths, row, strict=True)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    if not rows:
        click.echo("(none)")


# --- fulfilments (their commands live in their own module) ----------------------------------

from workers.cli_fulfil import fulfil, fulfilments, late  # noqa: E402 (after the groups exist)

main.add_command(fulfil)
main.add_command(fulfilments)
orders.add_command(late)


if __name__ == "__main__":
    main()
