"""``tokens create|list|revoke``: the platform's producers' API tokens. A token is shown once,
when it is made, and never again (the store keeps its hash); one limited to accounts opens only
their requests. ``API_TOKENS`` stays for simple setups."""

from __future__ import annotations

import click

from workers.cli.common import refuse, store, table


@click.group()
def tokens() -> None:
    """API tokens for the platform's producers (shown once, stored hashed)."""


@tokens.command("create")
@click.argument("name")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="Limit the token to this account (name or id); repeatable. Default: every account.",
)
def tokens_create(name: str, accounts: tuple[str, ...]) -> None:
    """Make a token called NAME and print it once (keep it now: it cannot be shown again)."""
    from infra.db.accounts import AccountError
    from infra.db.tokens import create_token
    from workers import bootstrap

    with store():
        try:
            created = create_token(bootstrap.container().sessions, name, accounts)
        except AccountError as exc:
            refuse(exc.errors)
    scope = _scope(created.view.account_ids)
    click.echo(f"token {created.view.name} created ({scope}); it is shown this once:", err=True)
    click.echo(created.token)


@tokens.command("list")
def tokens_list() -> None:
    """Every token: its name, accounts and state (never the token)."""
    from infra.db.tokens import list_tokens
    from workers import bootstrap

    with store():
        views = list_tokens(bootstrap.container().sessions)
    rows = [
        [
            v.name,
            _scope(v.account_ids),
            f"{v.created_at:%Y-%m-%d %H:%M}",
            "active" if v.revoked_at is None else f"revoked {v.revoked_at:%Y-%m-%d %H:%M}",
        ]
        for v in views
    ]
    table(["name", "accounts", "created (UTC)", "state"], rows)


@tokens.command("revoke")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """Revoke the token called NAME: refused from the next request on. Twice is harmless."""
    from infra.db.accounts import AccountError
    from infra.db.tokens import revoke_token
    from workers import bootstrap

    with store():
        try:
            _, now = revoke_token(bootstrap.container().sessions, name)
        except AccountError as exc:
            refuse(exc.errors)
    click.echo(f"token {name} revoked" if now else f"token {name} was revoked already")


def _scope(account_ids: tuple[int, ...] | None) -> str:
    if account_ids is None:
        return "every account"
    return "accounts " + ", ".join(str(i) for i in account_ids)
