"""What every part of the payout store shares: its engine, the encoder its events go to the
outbox with (``infra.platform.payloads.encode``, handed in by bootstrap), the tables, and the
settlement row looked up by (account, Amazon's settlement id)."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from sqlalchemy import Connection, Engine, select

from domain.shared.events import Event
from infra.db import outbox
from infra.db.outbox import EventEncoder
from infra.db.tables import Settlement, SettlementLineRow, SettlementSetAside

_TABLES = Settlement.metadata.tables
S = _TABLES[Settlement.__tablename__]
L = _TABLES[SettlementLineRow.__tablename__]
A = _TABLES[SettlementSetAside.__tablename__]


class UnknownSettlement(LookupError):
    """No settlement row for (account, settlement id): ``begin`` comes first."""


def driver(conn: Connection) -> psycopg.Connection[object]:
    """psycopg's own connection under SQLAlchemy's (for COPY and server-side cursors)."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


def settlement_row(conn: Connection, account_id: int, settlement_id: str, *, lock: bool) -> int:
    """The settlement's row id (locked for the transaction when ``lock``: one writer at a time
    per settlement, so a resume point never moves backwards)."""
    return locked_row(conn, account_id, settlement_id, lock=lock)[0]


def locked_row(
    conn: Connection, account_id: int, settlement_id: str, *, lock: bool
) -> tuple[int, int]:
    """The settlement's row id and its ``lines_stored`` (read under the lock when ``lock``)."""
    query = select(S.c.id, S.c.lines_stored).where(
        S.c.account_id == account_id, S.c.settlement_id == settlement_id
    )
    if lock:
        query = query.with_for_update()
    found = conn.execute(query).one_or_none()
    if found is None:
        raise UnknownSettlement(f"no settlement {settlement_id!r} for account {account_id}")
    return int(found[0]), int(found[1])


class StoreBase:
    def __init__(self, engine: Engine, encode: EventEncoder) -> None:
        self.engine = engine
        self.encode = encode

    def _append(self, conn: Connection, events: Sequence[Event]) -> None:
        """The events of a change, in the change's transaction."""
        outbox.append(conn, events, self.encode)
