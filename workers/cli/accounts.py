"""``accounts add|list|disconnect|reconnect|approve``: the seller accounts (a refresh token is never
echoed or shown). A disconnected account has nothing sent to Amazon until it is reconnected."""

from __future__ import annotations

import sys

import click

from domain.refunds.reconnect import ReconnectPlan
from infra.settings import Region
from workers.cli.common import fail, store, table


@click.group()
def accounts() -> None:
    """Seller accounts."""


@accounts.command("add")
@click.argument("name")
@click.option("--seller-id", required=True, help="The selling partner id (merchant token).")
@click.option("--region", type=click.Choice([r.value for r in Region]), required=True)
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
    from workers import bootstrap

    with store():
        try:
            account = add_account(
                bootstrap.container().sessions,
                name=name,
                selling_partner_id=seller_id,
                region=region,
                marketplace_ids=list(marketplaces),
                refresh_token=refresh_token,
                client_id=client_id,
            )
        except AccountError as exc:
            fail(str(exc))
        click.echo(f"added account {account.id} ({account.name})")


@accounts.command("list")
def accounts_list() -> None:
    """List seller accounts (credentials are never shown)."""
    from infra.db.accounts import list_accounts
    from workers import bootstrap

    with store():
        rows = [
            [
                str(a.id),
                a.name,
                a.selling_partner_id,
                a.region,
                ",".join(a.marketplace_ids),
                "yes" if a.connected else "no",
            ]
            for a in list_accounts(bootstrap.container().sessions)
        ]
    table(["id", "name", "seller", "region", "marketplaces", "connected"], rows)


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
            fail(str(exc))
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
            fail(str(exc))
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
            fail(str(exc))
        done = approve(
            view.id, c.refund_store, refund_ids=refund_ids, all_safe=all_safe, reject_ids=reject_ids
        )
        click.echo(f"approved: {list(done.approved)}; rejected: {list(done.rejected)}")
        for refund_id, why in done.refused:
            click.echo(f"error: refund {refund_id}: {why}", err=True)
        if done.refused:
            sys.exit(2)
