"""Alembic, driven from code: the CLI's ``db upgrade`` and the tests call these."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config

from infra.db.engine import libpq_url, sqlalchemy_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    command.check(alembic_config(database_url))


def revision(database_url: str, message: str) -> None:
    """Autogenerate a migration from the models (a developer's tool, reviewed before commit)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, migrated database on the server of ``server_url``, dropped afterwards: each test
    session or benchmark works in its own, and leaves nothing behind."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = libpq_url(server_url)
    base, _, query = admin.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
