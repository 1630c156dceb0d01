"""``db``: the database schema."""

from __future__ import annotations

import click

from workers.cli.common import store


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (run also does this on start), then encrypt the refresh tokens
    of rows from before secrets were encrypted (as `secrets rotate` does)."""
    from infra.db.accounts_secrets import reseal_refresh_tokens
    from workers import bootstrap

    with store():
        c = bootstrap.container()
        done = reseal_refresh_tokens(c.sessions, c.keyring)
        click.echo("database is at the latest revision")
        if done.resealed:
            click.echo(f"{done.resealed} refresh tokens encrypted with the current key")
