"""``db``: the database schema."""

from __future__ import annotations

import click

from workers.cli.common import store


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (run also does this on start)."""
    with store():
        click.echo("database is at the latest revision")
