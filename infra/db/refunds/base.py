"""What every part of the refund store shares: its engine, its sessions, and the encoder its
events go to the outbox with (``infra.platform.payloads.encode``, handed in by bootstrap)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.shared.events import Event
from infra.db import outbox
from infra.db.outbox import EventEncoder


class StoreBase:
    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        encode: EventEncoder,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.encode = encode

    def _append(self, conn: Connection, events: Sequence[Event]) -> None:
        """The events of a change, in the change's transaction."""
        outbox.append(conn, events, self.encode)
