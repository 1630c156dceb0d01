"""Engines and sessions, built on demand from a URL (never at import time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from infra.db.sql.locks import TRY_LOCK, UNLOCK


def sqlalchemy_url(database_url: str) -> str:
    """Accept the usual ``postgresql://`` spelling and use the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    raise ValueError(
        f"DATABASE_URL must be a PostgreSQL URL, got scheme {database_url.split(':')[0]!r}"
    )


def libpq_url(database_url: str) -> str:
    """The same URL as plain psycopg / libpq want it."""
    return sqlalchemy_url(database_url).replace("postgresql+psycopg://", "postgresql://", 1)


def make_engine(database_url: str, *, pool_size: int = 5, application_name: str = "") -> Engine:
    engine = create_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,  # a restarted PostgreSQL costs one failed checkout, not a task
        pool_recycle=1800,
        connect_args={"application_name": application_name or "amazon-channel"},
    )

    @event.listens_for(engine, "connect")
    def _session_defaults(dbapi_conn: object, _record: object) -> None:
        # UTC everywhere; no statement or idle transaction can hold locks forever.
        with dbapi_conn.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("SET statement_timeout = '60s'")
            cur.execute("SET idle_in_transaction_session_timeout = '120s'")
        dbapi_conn.commit()  # type: ignore[attr-defined]

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def advisory_lock(engine: Engine, key: str) -> Iterator[bool]:
    """Try a session advisory lock on a connection of its own for the block; yields False when
    another holder has it. Released when the block ends, or when the process dies (PostgreSQL
    drops a dead client's locks), so a killed worker never blocks the next run."""
    with engine.connect() as conn:
        locked = bool(conn.execute(TRY_LOCK, {"k": key}).scalar_one())
        conn.commit()
        try:
            yield locked
        finally:
            if locked:
                conn.execute(UNLOCK, {"k": key})
                conn.commit()
