"""``accounts add|list|disconnect|reconnect``: the seller accounts (a refresh token is never
echoed or shown). A disconnected account has nothing sent to Amazon until it is reconnected."""

from __future__ import annotations

import click

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
