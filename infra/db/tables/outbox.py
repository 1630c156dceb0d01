"""The outbox and its deliveries: events for the platform, one delivery per subscriber, and
the log of every HTTP attempt."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from infra.db.tables.base import Base, UtcTime


class OutboxEvent(Base):
    """An event for the platform, written in the same transaction as the change it reports."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_aggregate_key_id", "aggregate_key", "id"),
        Index(
            "ix_outbox_events_undispatched", "id", postgresql_where=text("dispatched_at IS NULL")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    topic: Mapped[str] = mapped_column(String(80))
    # Events of one aggregate (one order) are delivered in id order.
    aggregate_key: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    # Fan-out into webhook_deliveries done (one row per subscriber).
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcTime)


class WebhookDelivery(Base):
    """One event to one subscriber: its state, attempts and next try."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber_url"),
        Index("ix_webhook_deliveries_pending", "state", "next_attempt_at"),
        # The relay's "is this the head of its chain" probe stays an index lookup under a backlog.
        Index(
            "ix_webhook_deliveries_chain",
            "aggregate_key",
            "subscriber_url",
            "event_id",
            postgresql_where=text("state IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    aggregate_key: Mapped[str] = mapped_column(String(120))
    subscriber_url: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    lease_until: Mapped[datetime | None] = mapped_column(UtcTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcTime)


class WebhookAttempt(Base):
    """The delivery log: every HTTP attempt with its outcome."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
