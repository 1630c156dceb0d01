"""Orders and their items as synced from Amazon; one row per (account, Amazon order id)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

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
from sqlalchemy.orm import Mapped, mapped_column

from infra.db.tables.base import Base, Money, UtcTime


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
    # Where the stored copy came from: 'full' (the Orders API) or 'report' (a backfill's order
    # report, which lacks item ids and more): a report's copy never replaces a full one.
    detail: Mapped[str] = mapped_column(String(10), server_default=text("'full'"))
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
    # What the buyer paid for the line, per part (totals for the line; None while pending):
    # what a refund may give back is checked against these.
    charged_principal: Mapped[Decimal | None] = mapped_column(Money)
    charged_shipping: Mapped[Decimal | None] = mapped_column(Money)
    charged_tax: Mapped[Decimal | None] = mapped_column(Money)
    charged_shipping_tax: Mapped[Decimal | None] = mapped_column(Money)
    charged_gift_wrap: Mapped[Decimal | None] = mapped_column(Money)
    charged_gift_wrap_tax: Mapped[Decimal | None] = mapped_column(Money)
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
