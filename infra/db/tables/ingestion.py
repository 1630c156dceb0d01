"""What the sync keeps besides orders: the orders it set aside, and where each sync stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from infra.db.tables.base import Base, UtcTime


class SetAsideOrder(Base):
    """An order the sync could not store as-is, kept with the reason, so nothing is lost."""

    __tablename__ = "set_aside_orders"
    __table_args__ = (UniqueConstraint("account_id", "amazon_order_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"))
    amazon_order_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB)
    times_seen: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    first_seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcTime)


class SyncCursor(Base):
    """Where a sync of one account stands: the watermark and, mid-window, the resume point."""

    __tablename__ = "sync_cursors"

    account_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Everything updated before the watermark (Amazon's clock) is committed in the store.
    watermark: Mapped[datetime | None] = mapped_column(UtcTime)
    # The window in progress: resume from pagination_token after a crash.
    window_after: Mapped[datetime | None] = mapped_column(UtcTime)
    window_before: Mapped[datetime | None] = mapped_column(UtcTime)
    pagination_token: Mapped[str | None] = mapped_column(Text)
    pages_done: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    orders_seen: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    last_success_at: Mapped[datetime | None] = mapped_column(UtcTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
