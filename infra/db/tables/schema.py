"""The store's tables as SQLAlchemy 2 typed rows (Alembic migrations mirror these; `alembic check`
keeps them equal).

Unique business keys carry the idempotency: orders per (account, Amazon order id), items per
(order, order item id), events per event id, deliveries per (event, subscriber), API requests per
(scope, idempotency key). Money is NUMERIC plus a currency column; times are timestamptz (UTC).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 4)
UtcTime = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


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
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())

    def __repr__(self) -> str:
        return f"SellerAccount(id={self.id!r}, name={self.name!r}, region={self.region!r})"


class Order(Base):
    """An Amazon order as the store knows it. ``channel`` is always 'amazon' (rule 1)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "amazon_order_id"),
        Index("ix_orders_status_ship_by", "status", "ship_by_latest"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"))
    amazon_order_id: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20), server_default=text("'amazon'"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    fulfilled_by: Mapped[str] = mapped_column(String(10))
    read_only: Mapped[bool] = mapped_column(Boolean)
    currency: Mapped[str | None] = mapped_column(String(3))
    order_total: Mapped[Decimal | None] = mapped_column(Money)
    purchased_at: Mapped[datetime] = mapped_column(UtcTime)
    amazon_updated_at: Mapped[datetime] = mapped_column(UtcTime)
    ship_by_earliest: Mapped[datetime | None] = mapped_column(UtcTime)
    ship_by_latest: Mapped[datetime | None] = mapped_column(UtcTime)
    deliver_by_earliest: Mapped[datetime | None] = mapped_column(UtcTime)
    deliver_by_latest: Mapped[datetime | None] = mapped_column(UtcTime)
    service_level: Mapped[str | None] = mapped_column(String(60))
    is_business: Mapped[bool] = mapped_column(Boolean)
    is_prime: Mapped[bool] = mapped_column(Boolean)
    is_replacement: Mapped[bool] = mapped_column(Boolean)
    replaced_order_id: Mapped[str | None] = mapped_column(String(40))
    buyer_cancel_requested: Mapped[bool] = mapped_column(Boolean)
    buyer_cancel_reason: Mapped[str | None] = mapped_column(Text)
    has_buyer_data: Mapped[bool] = mapped_column(Boolean)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    first_seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "order_item_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    order_item_id: Mapped[str] = mapped_column(String(40))
    sku: Mapped[str | None] = mapped_column(String(100))
    asin: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(Text)
    quantity_ordered: Mapped[int] = mapped_column(Integer)
    quantity_shipped: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    unit_price: Mapped[Decimal | None] = mapped_column(Money)
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    cancel_reason: Mapped[str | None] = mapped_column(Text)


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


class IdempotencyKey(Base):
    """A request seen once: the same key with the same body replays the first answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    locked_at: Mapped[datetime | None] = mapped_column(UtcTime)


class Fulfilment(Base):
    """A shipment made in the store: one package (one tracking number) to confirm on Amazon.

    Stored before anything goes to Amazon; its id is the package's ``packageReferenceId``, so a
    resend edits that package. ``state`` follows ``domain.fulfilments.FulfilmentState``; a worker
    sends only under its lease (``lease_owner`` / ``lease_until``, committed before the call).
    """

    __tablename__ = "fulfilments"
    __table_args__ = (
        UniqueConstraint("account_id", "platform_fulfilment_id"),
        Index("ix_fulfilments_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_fulfilments_order_id", "order_id"),
        Index(
            "ix_fulfilments_read_back_due_at",
            "read_back_due_at",
            postgresql_where=text("read_back_due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    amazon_order_id: Mapped[str] = mapped_column(String(40))
    platform_fulfilment_id: Mapped[str] = mapped_column(String(100))
    # Of the request as understood (domain ``RequestFulfilment.fingerprint``): the same
    # platform_fulfilment_id with another fingerprint is a conflict.
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), server_default=text("'accepted'"))
    shipped_at: Mapped[datetime] = mapped_column(UtcTime)
    carrier_code: Mapped[str] = mapped_column(String(60))
    carrier_name: Mapped[str | None] = mapped_column(String(100))
    shipping_method: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str] = mapped_column(String(100))
    cancellation_request_reviewed: Mapped[bool] = mapped_column(
        Boolean, server_default=text("false")
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UtcTime)
    # When the sweeper sends it if nothing else did (a lost message, retries used up, a long
    # throttle); the queued task does not wait for it.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # Amazon's view, read back after the confirmation.
    amazon_order_status: Mapped[str | None] = mapped_column(String(30))
    amazon_package_status: Mapped[str | None] = mapped_column(String(30))
    amazon_checked_at: Mapped[datetime | None] = mapped_column(UtcTime)
    # Set while the read-back is put off (``getOrder``'s budget is a quarter of
    # ``confirmShipment``'s): when ``fulfil.read_back`` tries it next.
    read_back_due_at: Mapped[datetime | None] = mapped_column(UtcTime)
    accepted_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcTime)
    failed_at: Mapped[datetime | None] = mapped_column(UtcTime)
    updated_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())


class FulfilmentLine(Base):
    """An order item and the quantity one fulfilment ships of it (by Amazon's order item id)."""

    __tablename__ = "fulfilment_lines"
    __table_args__ = (UniqueConstraint("fulfilment_id", "order_item_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    fulfilment_id: Mapped[int] = mapped_column(ForeignKey("fulfilments.id", ondelete="CASCADE"))
    order_item_id: Mapped[str] = mapped_column(String(40))
    sku: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)


class RejectedFulfilment(Base):
    """A fulfilment request from the queue that was refused, with the reasons (nobody waits
    for an answer on a queue). One row per distinct request; a redelivery counts ``times_seen``."""

    __tablename__ = "rejected_fulfilments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("seller_accounts.id"))
    account_ref: Mapped[str | None] = mapped_column(String(100))
    amazon_order_id: Mapped[str | None] = mapped_column(String(40))
    platform_fulfilment_id: Mapped[str | None] = mapped_column(String(100))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    request: Mapped[dict[str, Any]] = mapped_column(JSONB)
    times_seen: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    first_seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())


class ShipByAlert(Base):
    """A ship-by warning sent for an order: once per kind and ship-by date (an extension by
    Amazon is a new date, so it warns again)."""

    __tablename__ = "ship_by_alerts"
    __table_args__ = (UniqueConstraint("order_id", "kind", "ship_by_latest"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    ship_by_latest: Mapped[datetime] = mapped_column(UtcTime)
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
