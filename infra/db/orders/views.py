"""Orders as the CLI and the web process read them: recent ones, one in detail, those set aside."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from infra.db.accounts import account_matches
from infra.db.tables import Order, OrderItem, SellerAccount, SetAsideOrder


def _flags(order: Order) -> str:
    flags = [
        name
        for name, on in (
            ("read-only", order.read_only),
            ("business", order.is_business),
            ("prime", order.is_prime),
            ("replacement", order.is_replacement),
            ("cancel-requested", order.buyer_cancel_requested),
            ("no-buyer-data", not order.has_buyer_data),
        )
        if on
    ]
    return ",".join(flags)


# What a fulfilment can be sent for: the merchant's own orders with units still to ship, no
# buyer asking to cancel (that needs a review first) and not read-only.
TO_SHIP_STATUSES = ("UNSHIPPED", "PARTIALLY_SHIPPED")


def recent_orders(
    sessions: sessionmaker[Session],
    account: str | None,
    status: str | None,
    limit: int,
    *,
    to_ship: bool = False,
) -> list[dict[str, Any]]:
    with sessions() as session:
        query = (
            select(Order, SellerAccount.name)
            .join(SellerAccount, SellerAccount.id == Order.account_id)
            .order_by(Order.amazon_updated_at.desc())
            .limit(limit)
        )
        if account is not None:
            query = query.where(account_matches(account))
        if status is not None:
            query = query.where(Order.status == status.upper())
        if to_ship:
            query = query.where(
                Order.status.in_(TO_SHIP_STATUSES),
                Order.fulfilled_by == "MERCHANT",
                Order.buyer_cancel_requested.is_(False),
                Order.read_only.is_(False),
            )
        return [
            {
                "account": account_name,
                "amazon_order_id": o.amazon_order_id,
                "status": o.status,
                "fulfilled_by": o.fulfilled_by,
                "marketplace_id": o.marketplace_id,
                "order_total": o.order_total,
                "currency": o.currency,
                "purchased_at": o.purchased_at,
                "flags": _flags(o),
            }
            for o, account_name in session.execute(query)
        ]


def order_detail(sessions: sessionmaker[Session], amazon_order_id: str) -> dict[str, Any] | None:
    with sessions() as session:
        order = session.scalars(
            select(Order).where(Order.amazon_order_id == amazon_order_id)
        ).first()
        if order is None:
            return None
        items = session.scalars(
            select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.id)
        ).all()
        detail = {c.name: getattr(order, c.key) for c in Order.__table__.columns}
        detail["flags"] = _flags(order)
        detail["items"] = [
            {c.name: getattr(item, c.key) for c in OrderItem.__table__.columns} for item in items
        ]
        return detail


def set_aside_orders(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(
            select(SetAsideOrder)
            .where(SetAsideOrder.resolved_at.is_(None))
            .order_by(SetAsideOrder.last_seen_at.desc())
        )
        return [
            {
                "account_id": r.account_id,
                "amazon_order_id": r.amazon_order_id,
                "reason": r.reason,
                "times_seen": r.times_seen,
                "last_seen_at": r.last_seen_at,
            }
            for r in rows
        ]
