"""Fulfilments and what comes with them: their lines, the refused queue requests, the
ship-by alerts sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
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
