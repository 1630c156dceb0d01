"""``accounts add|list|edit|disable|enable|remove|import|disconnect|reconnect|approve``: the
seller accounts (a refresh token is never echoed or shown). A disabled, paused, removed or
disconnected account has nothing sent to Amazon; a disconnected one also holds what the
platform asks until it is reconnected."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn, TextIO

import click
import httpx

from domain.refunds.reconnect import ReconnectPlan
from infra.marketplaces import MARKETPLACES
from infra.settings import Region
from workers.cli.common import fail, refuse, settings, store, table

if TYPE_CHECKING:
    from infra.db.accounts import AccountView
    from infra.db.accounts_import import ImportRefused


@click.group()
def accounts() -> None:
    """Seller accounts."""


def _since(text: str | None) -> datetime | None:
    from infra.db.accounts_checks import parse_since

    return None if text is None else parse_since(text, datetime.now(UTC))


_SINCE_HELP = (
    "Where the first sync starts: a date (2026-11-01, UTC) or a duration back (30d, 12h, 2w). "
    "Default: one day back."
)


@accounts.command("add")
@click.argument("name")
@click.option("--seller-id", required=True, help="The selling partner id (merchant token).")
@click.option("--region", type=click.Choice([r.value for r in Region]), required=True)
@click.option(
    "--marketplace",
    "marketplaces",
    multiple=True,
    required=True,
    help="Id or country code (ATVPDKIKX0DER, DE, SE); repeatable, of the region.",
)
@click.option("--client-id", default=None, help="LWA client id, if not LWA_CLIENT_ID.")
@click.option(
    "--refresh-token",
    envvar="LWA_REFRESH_TOKEN",
    prompt=True,
    hide_input=True,
    help="LWA refresh token (or LWA_REFRESH_TOKEN; prompted when missing, never echoed).",
)
@click.option("--since", default=None, help=_SINCE_HELP)
def accounts_add(
    name: str,
    seller_id: str,
    region: str,
    marketplaces: tuple[str, ...],
    client_id: str | None,
    refresh_token: str,
    since: str | None,
) -> None:
    """Add a seller account (checked before anything starts: its marketplaces belong to the
    region, a real region has an LWA client id)."""
    from infra.db.accounts import AccountError, add_account
    from infra.db.accounts_checks import NewAccount, checked
    from workers import bootstrap

    app_client_id = settings().lwa_client_id
    try:
        new = checked(
            NewAccount(name, seller_id, region, marketplaces, refresh_token, client_id),
            app_client_id=app_client_id,
        )
        sync_since = _since(since)
    except AccountError as exc:
        refuse(exc.errors)
    with store():
        try:
            account = add_account(
                bootstrap.container().sessions,
                name=new.name,
                selling_partner_id=new.selling_partner_id,
                region=new.region,
                marketplace_ids=list(new.marketplace_ids),
                refresh_token=new.refresh_token,
                client_id=new.client_id,
                sync_since=sync_since,
                app_client_id=app_client_id,
            )
        except AccountError as exc:
            refuse(exc.errors)
        click.echo(f"added account {account.id} ({account.name}): {_markets(account)}")


def _markets(account: AccountView) -> str:
    """The account's marketplaces by country, with their ids."""
    return ", ".join(
        f"{MARKETPLACES[m].country_code} {m}" if m in MARKETPLACES else m
        for m in account.marketplace_ids
    )


@accounts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Removed accounts too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per account.")
def accounts_list(show_all: bool, as_json: bool) -> None:
    """List seller accounts with their status: active, disabled, paused (with Amazon's reason),
    disconnected, removed (credentials are never shown)."""
    from infra.db.accounts import list_accounts
    from workers import bootstrap

    with store():
        found = list_accounts(bootstrap.container().sessions, include_removed=show_all)
    if as_json:
        for a in found:
            click.echo(json.dumps(_public(a)))
        return
    rows = [
        [
            str(a.id),
            a.name,
            a.selling_partner_id,
            a.region,
            " ".join(
                MARKETPLACES[m].country_code if m in MARKETPLACES else m for m in a.marketplace_ids
            ),
            a.status + (f" since {a.paused_at:%Y-%m-%d %H:%M}" if a.paused_at and a.active else ""),
        ]
        for a in found
    ]
    table(["id", "name", "seller", "region", "marketplaces", "status"], rows)


def _public(a: AccountView) -> dict[str, object]:
    return {
        "id": a.id,
        "name": a.name,
        "seller_id": a.selling_partner_id,
        "region": a.region,
        "marketplace_ids": list(a.marketplace_ids),
        "status": a.status.split(":")[0],
        "paused_reason": a.paused_reason,
        "paused_at": a.paused_at.isoformat() if a.paused_at else None,
        "connected": a.connected,
    }


@accounts.command("edit")
@click.argument("account")
@click.option("--name", default=None, help="A new name.")
@click.option("--region", type=click.Choice([r.value for r in Region]), default=None)
@click.option(
    "--marketplace",
    "marketplaces",
    multiple=True,
    help="Replaces the account's marketplaces (repeatable; id or country code).",
)
@click.option("--client-id", default=None, help="A new LWA client id.")
@click.option(
    "--refresh-token",
    default=None,
    help="A new LWA refresh token (clears a pause). Give '-' to be prompted without echo.",
)
def accounts_edit(
    account: str,
    name: str | None,
    region: str | None,
    marketplaces: tuple[str, ...],
    client_id: str | None,
    refresh_token: str | None,
) -> None:
    """Change ACCOUNT (by id or name), checked again as a whole: a new region must hold the
    marketplaces (give both). New credentials clear a pause."""
    from infra.db.accounts import AccountError
    from infra.db.accounts_changes import AccountChanges, edit_account
    from workers import bootstrap

    if refresh_token == "-":  # noqa: S105 (the sign to prompt, not a secret)
        refresh_token = click.prompt("Refresh token", hide_input=True)
    changes = AccountChanges(name, region, marketplaces or None, client_id, refresh_token)
    if changes == AccountChanges():
        fail("give what to change: --name, --region, --marketplace, --client-id, --refresh-token")
    with store() as ready:
        try:
            view = edit_account(
                bootstrap.container().sessions, account, changes, app_client_id=ready.lwa_client_id
            )
        except AccountError as exc:
            refuse(exc.errors)
    click.echo(f"account {view.id} ({view.name}): {view.region}, {_markets(view)}; {view.status}")


@accounts.command("disable")
@click.argument("account")
def accounts_disable(account: str) -> None:
    """Stop syncing and sending for ACCOUNT until it is enabled (nothing is deleted)."""
    _set_enabled(account, False)


@accounts.command("enable")
@click.argument("account")
def accounts_enable(account: str) -> None:
    """Sync ACCOUNT again: undoes a disable, a pause on refused credentials, or a remove."""
    _set_enabled(account, True)


def _set_enabled(account: str, enabled: bool) -> None:
    from infra.db.accounts import AccountError
    from infra.db.accounts_changes import set_enabled
    from workers import bootstrap

    with store():
        try:
            view = set_enabled(bootstrap.container().sessions, account, enabled)
        except AccountError as exc:
            refuse(exc.errors)
    click.echo(f"account {view.id} ({view.name}): {view.status}")


@accounts.command("remove")
@click.argument("account")
@click.option(
    "--purge", is_flag=True, help="Delete it and all of its orders, fulfilments, refunds."
)
@click.option("--yes", is_flag=True, help="Purge without asking.")
def accounts_remove(account: str, purge: bool, yes: bool) -> None:
    """Remove ACCOUNT: hidden and never synced again, its history kept (`accounts list --all`
    shows it; `accounts enable` brings it back). --purge deletes it and everything of it."""
    from infra.db.accounts import AccountError, get_account
    from infra.db.accounts_changes import purge_account, remove_account
    from workers import bootstrap

    with store():
        sessions = bootstrap.container().sessions
        try:
            if not purge:
                view = remove_account(sessions, account)
                click.echo(f"removed account {view.id} ({view.name}); its history is kept")
                return
            view = get_account(sessions, account)
            if not yes and not click.confirm(
                f"Delete account {view.id} ({view.name}) and all of its orders, fulfilments "
                "and refunds?"
            ):
                click.echo("nothing deleted")
                sys.exit(1)
            purged = purge_account(sessions, view.id)
        except AccountError as exc:
            refuse(exc.errors)
    rows = ", ".join(f"{n} {t}" for t, n in purged.rows.items()) or "no rows of it"
    click.echo(f"purged account {view.id} ({view.name}): {rows}")


@accounts.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--skip-existing", is_flag=True, help="Leave out rows whose name exists already.")
def accounts_import(file: TextIO, skip_existing: bool) -> None:
    """Add many accounts from FILE ('-': standard input): CSV with a header, or JSON lines.

    Columns: name, seller_id, region, marketplaces (separated by ';' or spaces), client_id,
    refresh_token, since. Every row is checked like `accounts add`; any refused row is
    reported with its line and nothing is imported."""
    from infra.db.accounts_import import ImportRefused, check_rows, import_accounts, read_rows
    from workers import bootstrap

    app_client_id = settings().lwa_client_id
    try:
        checked_rows = check_rows(
            read_rows(file.read()), app_client_id=app_client_id, now=datetime.now(UTC)
        )
    except ImportRefused as exc:
        _refused_rows(exc)
    with store():
        try:
            report = import_accounts(
                bootstrap.container().sessions, checked_rows, skip_existing=skip_existing
            )
        except ImportRefused as exc:
            _refused_rows(exc)
    skipped = f", skipped {len(report.skipped)} that exist already" if report.skipped else ""
    click.echo(f"imported {len(report.added)} account(s){skipped}")


def _refused_rows(exc: ImportRefused) -> NoReturn:
    for error in exc.errors:
        click.echo(f"error: {error}", err=True)
    click.echo("error: nothing imported (fix the rows above and import the file again)", err=True)
    sys.exit(2)


@accounts.command("demo-sellers")
@click.argument("count", type=click.IntRange(min=1))
def accounts_demo_sellers(count: int) -> None:
    """Make sure the store has the demo accounts demo-seller-2..COUNT (beside `demo`) and the
    running sandbox their sellers (a sandbox started later: `amazon-channel sandbox --sellers
    COUNT`)."""
    from workers import bootstrap
    from workers.demo_sellers import ensure_demo_sellers

    with store() as ready:
        url = ready.resolved_spapi_endpoint() if ready.uses_sandbox() else None
        try:
            done = ensure_demo_sellers(bootstrap.container().sessions, count, sandbox_url=url)
        except httpx.HTTPError as exc:
            fail(
                f"sandbox: not reachable at {url} ({exc}): the accounts are in the store; start "
                f"it with `amazon-channel sandbox --sellers {count}`"
            )
    click.echo(
        f"demo sellers 2..{count}: {done.accounts_added} account(s) added to the store, "
        f"{done.sellers_added} seller(s) to the sandbox"
    )


@accounts.command("disconnect")
@click.argument("account")
def accounts_disconnect(account: str) -> None:
    """Stop everything towards Amazon for ACCOUNT (by id or name): no sync, nothing sent.

    Fulfilments, refunds and cancellations that arrive meanwhile are accepted and held."""
    from infra.db.accounts import AccountError, set_connected
    from workers import bootstrap

    with store():
        try:
            view = set_connected(bootstrap.container().sessions, account, False)
        except AccountError as exc:
            refuse(exc.errors)
        click.echo(
            f"disconnected account {view.id} ({view.name}): nothing goes to Amazon until "
            f"`amazon-channel accounts reconnect {view.name}`"
        )


def _show_plan(plan: ReconnectPlan) -> None:
    click.echo(
        f"fulfilments waiting: {plan.fulfilments_waiting} (sent once connected); the sync "
        f"catches up from {plan.sync_from.isoformat() if plan.sync_from else 'its start'}"
    )
    rows = [
        [
            str(item.refund.id),
            item.refund.kind.value,
            item.refund.amazon_order_id,
            str(item.refund.total),
            item.refund.state.value,
            item.verdict.value,
            item.reason,
        ]
        for item in plan.items
    ]
    table(["id", "kind", "order", "total", "state", "verdict", "why"], rows)


@accounts.command("reconnect")
@click.argument("account")
@click.option("--plan", "plan_only", is_flag=True, help="Show the plan; change nothing.")
@click.option("--approve-safe", is_flag=True, help="Also approve every item the plan calls safe.")
def accounts_reconnect(account: str, plan_only: bool, approve_safe: bool) -> None:
    """Reconnect ACCOUNT and show the plan of what would be sent.

    The sync resumes from its watermark and waiting fulfilments are sent. No held refund or
    cancellation is sent by itself: each waits for `accounts approve` (all safe ones at once, or
    one by one: a refund of an order that shipped is never approved with the safe ones)."""
    from domain.refunds.reconnect import approve, reconnect_plan
    from infra.db.accounts import AccountError, get_account, set_connected
    from workers import bootstrap

    with store():
        c = bootstrap.container()
        try:
            view = get_account(c.sessions, account)
            if not plan_only:
                view = set_connected(c.sessions, account, True)
                c.refund_store.hold_for_approval(view.id)
        except AccountError as exc:
            refuse(exc.errors)
        plan = reconnect_plan(view.id, view.connected, c.refund_store)
        state = "connected" if view.connected else "disconnected (plan only)"
        click.echo(f"account {view.id} ({view.name}): {state}")
        _show_plan(plan)
        if approve_safe and not plan_only:
            done = approve(view.id, c.refund_store, all_safe=True)
            click.echo(f"approved {len(done.approved)} safe item(s): {list(done.approved)}")


@accounts.command("approve")
@click.argument("account")
@click.option("--all-safe", is_flag=True, help="Every item the reconnect plan calls safe.")
@click.option("--refund", "refund_ids", type=int, multiple=True, help="One by one (repeatable).")
@click.option("--reject", "reject_ids", type=int, multiple=True, help="Fail it (repeatable).")
def accounts_approve(
    account: str, all_safe: bool, refund_ids: tuple[int, ...], reject_ids: tuple[int, ...]
) -> None:
    """Approve (or reject) refunds and cancellations held while ACCOUNT was disconnected."""
    from domain.refunds.reconnect import approve
    from infra.db.accounts import AccountError, get_account
    from workers import bootstrap

    if not (all_safe or refund_ids or reject_ids):
        fail("give --all-safe, --refund ID or --reject ID")
    with store():
        c = bootstrap.container()
        try:
            view = get_account(c.sessions, account)
        except AccountError as exc:
            refuse(exc.errors)
        done = approve(
            view.id, c.refund_store, refund_ids=refund_ids, all_safe=all_safe, reject_ids=reject_ids
        )
        click.echo(f"approved: {list(done.approved)}; rejected: {list(done.rejected)}")
        for refund_id, why in done.refused:
            click.echo(f"error: refund {refund_id}: {why}", err=True)
        if done.refused:
            sys.exit(2)
