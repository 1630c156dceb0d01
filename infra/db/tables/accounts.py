"""Seller accounts: one Amazon seller in one region."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    String,
    Text,
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
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())

    def __repr__(self) -> str:
        return f"SellerAccount(id={self.id!r}, name={self.name!r}, region={self.region!r})"
