"""Where each account's order sync stands, for operators: its watermark (everything Amazon
updated before it is in the store) and when a sync last succeeded. The operator page shows the
lag (now minus the watermark) next to each account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from infra.db.tables import SyncCursor

ORDERS_SCOPE = "orders"  # the sync's scope (``bootstrap.sync_account``)


@dataclass(frozen=True, slots=True)
class SyncPosition:
    watermark: datetime | None
    last_success_at: datetime | None


def sync_positions(sessions: sessionmaker[Session]) -> dict[int, SyncPosition]:
    """Every account with a sync cursor, by account id (an account never synced has none)."""
    with sessions() as session:
        rows = session.execute(
            select(SyncCursor.account_id, SyncCursor.watermark, SyncCursor.last_success_at).where(
                SyncCursor.scope == ORDERS_SCOPE
            )
        )
        return {int(a): SyncPosition(w, s) for a, w, s in rows}
