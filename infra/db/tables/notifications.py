"""Notifications: the NotificationIds taken in (for dedupe, kept a bounded time), the order
refreshes they asked for (one per order, the latest change wins), and each order's sightings
by either path (the gap audit: what the sync found that no notification announced, and the
other way round)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from infra.db.tables.base import Base, UtcTime


class NotificationReceived(Base):
    """One notification taken in. Kept ``RETENTION`` (longer than SQS keeps a message, 14 days
    at most), so a redelivery is always recognised; then purged."""

    __tablename__ = "notifications_received"
    __table_args__ = (Index("ix_notifications_received_received_at", "received_at"),)

    notification_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    notification_type: Mapped[str] = mapped_column(String(60))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("seller_accounts.id", ondelete="CASCADE")
    )
    subject: Mapped[str | None] = mapped_column(String(100))  # the order, feed or report id
    event_time: Mapped[datetime] = mapped_column(UtcTime)
    received_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())


class OrderRefresh(Base):
    """An order a notification said changed, to be read with getOrder. ``state``: pending, or
    deferred (left to the next sync window: more were pending than getOrder serves first).
    ``version`` counts the notifications that named it, so one that arrives while the order is
    read keeps the refresh."""

    __tablename__ = "order_refreshes"
    __table_args__ = (Index("ix_order_refreshes_account_id_state", "account_id", "state"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("seller_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    amazon_order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), server_default=text("'pending'"))
    changed_at: Mapped[datetime] = mapped_column(UtcTime)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    lease_until: Mapped[datetime | None] = mapped_column(UtcTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())


class OrderSighting(Base):
    """When each path last saw the order change (Amazon's times) and when it looked: the
    notification's change time, the sync's ``lastUpdatedTime``. Purged with the notifications."""

    __tablename__ = "order_sightings"
    __table_args__ = (Index("ix_order_sightings_account_id_seen_at", "account_id", "seen_at"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("seller_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    amazon_order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    notified_change_at: Mapped[datetime | None] = mapped_column(UtcTime)
    notified_at: Mapped[datetime | None] = mapped_column(UtcTime)
    synced_change_at: Mapped[datetime | None] = mapped_column(UtcTime)
    synced_at: Mapped[datetime | None] = mapped_column(UtcTime)
    seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
