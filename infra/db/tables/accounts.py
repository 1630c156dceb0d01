"""Seller accounts: one Amazon seller in one region."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    String,
    Table,
    Text,
    and_,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from infra.db.tables.base import Base, UtcTime


class SellerAccount(Base):
    """One Amazon seller in one region: the unit of sync, credentials and rate budget."""

    __tablename__ = "seller_accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    selling_partner_id: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(10))
    marketplace_ids: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    # Login with Amazon: the app's client id (when it differs from settings) and the seller's
    # refresh token. Never logged; the repr of the row omits them.
    lwa_client_id: Mapped[str | None] = mapped_column(String(200))
    lwa_refresh_token: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Disconnected: nothing goes to Amazon for the account (no sync, nothing sent); what the
    # platform asks meanwhile is held until it is reconnected.
    connected: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disconnected_at: Mapped[datetime | None] = mapped_column(UtcTime)
    reconnected_at: Mapped[datetime | None] = mapped_column(UtcTime)
    # Paused: Login with Amazon refused the account's credentials (the reason is its answer);
    # nothing is tried again until a person enables it or gives a new refresh token.
    paused_at: Mapped[datetime | None] = mapped_column(UtcTime)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # Removed: hidden and never synced; its orders and history stay (a purge deletes them).
    removed_at: Mapped[datetime | None] = mapped_column(UtcTime)
    # Where the first sync starts (None: one day back).
    sync_since: Mapped[datetime | None] = mapped_column(UtcTime)
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())

    def __repr__(self) -> str:
        return f"SellerAccount(id={self.id!r}, name={self.name!r}, region={self.region!r})"


def reaches_amazon(accounts: Table | None = None) -> ColumnElement[bool]:
    """The accounts something is sent to Amazon for (a sync, a confirmation, a feed): connected,
    enabled (``active``), not paused and not removed. ``accounts``: the table as a statement
    names it (the Core table by default)."""
    t = accounts if accounts is not None else SellerAccount.__table__
    return and_(
        t.c.connected.is_(True),
        t.c.active.is_(True),
        t.c.paused_at.is_(None),
        t.c.removed_at.is_(None),
    )
