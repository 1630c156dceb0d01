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


# A PostgreSQL that is gone without a word (its host down, a network partition, a pooler or
# firewall that drops the path) sends no FIN or RST: without these, a call waits on its socket
# forever (the server's statement_timeout cannot answer). The kernel bounds it instead:
# - keepalives: a connection with nothing received for 10 s is probed every 3 s (a live server's
#   kernel answers at once, however long its query runs, so a long statement is not cut);
# - tcp_user_timeout: what was sent and is not acknowledged within 15 s, or probes unanswered
#   for 15 s since the last thing heard, ends the connection (it also caps the keepalive count).
# Either way a call on a dead link raises OperationalError about 15-20 s in, a transient error
# the task retries; connect_timeout bounds a connection to a host that does not answer.
DEAD_PEER_ARGS: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,  # milliseconds
    "connect_timeout": 10,
}


def make_engine(database_url: str, *, pool_size: int = 5, application_name: str = "") -> Engine:
    engine = create_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,  # a restarted PostgreSQL costs one failed checkout, not a task
        pool_recycle=1800,
        connect_args={
            "application_name": application_name or "amazon-channel",
            **DEAD_PEER_ARGS,
        },
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
