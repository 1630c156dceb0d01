"""Refunds and cancellations (one table, ``kind`` tells them apart), their lines with the
amounts per component, the refused queue requests, and where the Finances sweep stands."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
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

from infra.db.tables.base import Base, Money, UtcTime


class Refund(Base):
    """A refund or cancellation: asked by the platform (``source`` 'store') or found in Amazon's
    Finances (``source`` 'amazon', keyed by ``amazon_key``). ``state`` follows
    ``domain.refunds.RefundState``; its id is the feed message's ``MessageID``."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "platform_id"),
        UniqueConstraint("account_id", "amazon_key"),
        Index(
            "ix_refunds_state_account_id_marketplace_id", "state", "account_id", "marketplace_id"
        ),
        Index("ix_refunds_account_id_amazon_order_id", "account_id", "amazon_order_id"),
        Index("ix_refunds_submission_id", "submission_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10), server_default=text("'store'"))
    account_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"))
    # None for a refund found on Amazon for an order the store has not synced.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    amazon_order_id: Mapped[str] = mapped_column(String(40))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    platform_id: Mapped[str | None] = mapped_column(String(100))
    amazon_key: Mapped[str | None] = mapped_column(String(400))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3))
    whole_order: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    state: Mapped[str] = mapped_column(String(20), server_default=text("'accepted'"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("feed_submissions.id"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # When the batcher may take it (accepted) or the sweeper looks again.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(UtcTime)
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcTime)
    failed_at: Mapped[datetime | None] = mapped_column(UtcTime)
    posted_at: Mapped[datetime | None] = mapped_column(UtcTime)  # Amazon's, for 'amazon'
    updated_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())


class RefundLine(Base):
    """One order item of a refund, with what goes back per component (a restocking fee as the
    positive amount kept back). Its id is the feed's ``MerchantAdjustmentItemID``."""

    __tablename__ = "refund_lines"
    __table_args__ = (Index("ix_refund_lines_refund_id", "refund_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"))
    order_item_id: Mapped[str] = mapped_column(String(40))
    sku: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[int | None] = mapped_column(Integer)
    amazon_adjustment_item_id: Mapped[str | None] = mapped_column(String(60))
    item_price: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    shipping: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    tax: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    shipping_tax: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    gift_wrap: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    gift_wrap_tax: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    goodwill: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    restocking_fee: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    return_shipping: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))


class RejectedRefund(Base):
    """A refund or cancellation request from the queue that was refused, with the reasons.
    One row per distinct request; a redelivery counts ``times_seen``."""

    __tablename__ = "rejected_refunds"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("seller_accounts.id"))
    account_ref: Mapped[str | None] = mapped_column(String(100))
    amazon_order_id: Mapped[str | None] = mapped_column(String(40))
    platform_id: Mapped[str | None] = mapped_column(String(100))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    request: Mapped[dict[str, Any]] = mapped_column(JSONB)
    times_seen: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    first_seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())


class FinanceCursor(Base):
    """Where the sweep of Amazon's refund events stands per account (``PostedAfter``)."""

    __tablename__ = "finance_cursors"

    account_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"), primary_key=True)
    posted_after: Mapped[datetime] = mapped_column(UtcTime)
    # Since when the sweeps have read every refund without a gap (the first one's start): an
    # order bought after this has all its refunds on Amazon in the store already.
    covered_since: Mapped[datetime | None] = mapped_column(UtcTime)
    updated_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
