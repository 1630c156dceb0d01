"""Amazon's settlements as stored: one row per settlement (its summary, where a fetch stands and,
once reconciled, the statement's totals), every line of it, and the rows set aside unread.

A settlement is unique per (account, Amazon's settlement id): a report listed again finds its
row. A line is unique per (settlement, ``line_no``, its row number in the file): a batch saved
twice, or a fetch resumed after a kill, stores nothing twice. Amazon's free-text fields are
``text`` (no length to overflow: one odd value must not fail a batch again and again). Each
line keeps its own currency beside its amount (a line in another currency than its settlement
is shown, never added), and its ``kind`` (sale, refund, fee, other: ``domain.payouts.classify``)
so a statement's per-order sums are one GROUP BY at read time.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from infra.db.tables.base import Base, Money, UtcTime


class Settlement(Base):
    """One settlement of one account. ``state``: fetching (lines arriving; ``lines_stored`` is
    the highest line committed, where a killed fetch resumes), then reconciled or unreconciled
    once its statement is stored (the totals below, all in ``currency``)."""

    __tablename__ = "settlements"
    __table_args__ = (
        UniqueConstraint("account_id", "settlement_id"),
        Index("ix_settlements_account_id_period_end", "account_id", "period_end"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"))
    settlement_id: Mapped[str] = mapped_column(Text)
    report_id: Mapped[str] = mapped_column(Text)
    document_id: Mapped[str] = mapped_column(Text)
    period_start: Mapped[datetime] = mapped_column(UtcTime)
    period_end: Mapped[datetime] = mapped_column(UtcTime)
    deposit_date: Mapped[datetime | None] = mapped_column(UtcTime)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money)
    marketplace_name: Mapped[str | None] = mapped_column(Text)
    lines_stored: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    state: Mapped[str] = mapped_column(String(20), server_default=text("'fetching'"))
    # The statement's totals (None until reconciled), in ``currency``.
    sales: Mapped[Decimal | None] = mapped_column(Money)
    refunds: Mapped[Decimal | None] = mapped_column(Money)
    fees: Mapped[Decimal | None] = mapped_column(Money)
    other: Mapped[Decimal | None] = mapped_column(Money)
    lines_total: Mapped[Decimal | None] = mapped_column(Money)
    difference: Mapped[Decimal | None] = mapped_column(Money)
    line_count: Mapped[int | None] = mapped_column(Integer)
    set_aside: Mapped[int | None] = mapped_column(Integer)
    unmatched: Mapped[int | None] = mapped_column(Integer)
    matched: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # lines per match
    problems: Mapped[list[str] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    reconciled_at: Mapped[datetime | None] = mapped_column(UtcTime)
    updated_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())


class SettlementLineRow(Base):
    """One amount of a settlement, every field of ``domain.payouts.SettlementLine``.
    ``unmatched``: why the statement matched it to nothing (None when matched).

    ``settlement_row_id`` has no foreign key on purpose: lines are written only by
    ``SqlPayoutStore.save_lines``, in the transaction that holds the settlement row's lock, so
    the row is there; a foreign key would check it again for every line, which measured about
    30 % of a 200,000-line COPY (``bench/payouts``)."""

    __tablename__ = "settlement_lines"
    __table_args__ = (
        UniqueConstraint("settlement_row_id", "line_no"),
        Index(
            "ix_settlement_lines_order_id",
            "order_id",
            postgresql_where=text("order_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    settlement_row_id: Mapped[int] = mapped_column(BigInteger)
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    transaction_type: Mapped[str] = mapped_column(Text)
    amount_type: Mapped[str] = mapped_column(Text)
    amount_description: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    order_id: Mapped[str | None] = mapped_column(Text)
    merchant_order_id: Mapped[str | None] = mapped_column(Text)
    adjustment_id: Mapped[str | None] = mapped_column(Text)
    shipment_id: Mapped[str | None] = mapped_column(Text)
    marketplace_name: Mapped[str | None] = mapped_column(Text)
    fulfillment_id: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(UtcTime)
    order_item_code: Mapped[str | None] = mapped_column(Text)
    merchant_order_item_id: Mapped[str | None] = mapped_column(Text)
    merchant_adjustment_item_id: Mapped[str | None] = mapped_column(Text)
    sku: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int | None] = mapped_column(Integer)
    promotion_id: Mapped[str | None] = mapped_column(Text)
    unmatched: Mapped[str | None] = mapped_column(Text)


class SettlementSetAside(Base):
    """A row of a settlement's file that could not be read: why, and the row as it was."""

    __tablename__ = "settlement_lines_set_aside"
    __table_args__ = (UniqueConstraint("settlement_row_id", "line_no"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    settlement_row_id: Mapped[int] = mapped_column(ForeignKey("settlements.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)


class OpenBalance(Base):
    """What Amazon holds and has not paid out: an open financial event group's total so far,
    as the last fetch read it (a fetch replaces the account's rows)."""

    __tablename__ = "payout_open_balances"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("seller_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(Text, primary_key=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcTime, nullable=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    fetched_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
