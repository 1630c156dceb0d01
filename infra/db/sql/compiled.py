"""Statements written with SQLAlchemy Core, compiled once, run on psycopg's own cursor.

For the hottest paths (the API's intake, the fulfil worker's claim and outcome). SQLAlchemy's
execution layer (cache-key lookup, execution context, result processing) costs more CPU per
statement than PostgreSQL spends answering a primary-key lookup; here a call is psycopg's
``execute`` on the SQL string compiled at import, inside the caller's transaction. psycopg
prepares a statement on the server after a few uses of the same string.

Parameters go in as psycopg adapts them (the SQL carries SQLAlchemy's casts): JSON values wrapped
in ``Jsonb``, ``timedelta`` for intervals, lists for arrays. Rows come back as named tuples, times
as aware datetimes in the session's time zone (UTC, ``infra.db.engine``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.sql import ClauseElement

_DIALECT = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]


class Compiled:
    """One statement: its SQL and the values of the literals SQLAlchemy turned into binds."""

    __slots__ = ("defaults", "sql")

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        self.defaults = dict(compiled.params)

    def run(self, conn: Connection, params: Mapping[str, Any]) -> psycopg.Cursor[Any]:
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        cursor = driver.cursor(row_factory=namedtuple_row)
        cursor.execute(self.sql, {**self.defaults, **params})
        return cursor

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        with self.run(conn, params) as cursor:
            return cursor.fetchall()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        with self.run(conn, params) as cursor:
            return cursor.fetchone()

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first column of the first row; None when there is no row."""
        row = self.first(conn, params)
        return row[0] if row is not None else None

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """For statements without rows: how many rows they touched."""
        with self.run(conn, params) as cursor:
            return cursor.rowcount
