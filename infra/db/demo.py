"""What the demo prints of the store for one account and the orders of its run: those orders by
kind, the set-aside ones with their reasons, and the events written for the platform about
them. Orders of earlier runs in the same store are not counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain.orders.events import order_key
from infra.db.tables import Order, OutboxEvent, SetAsideOrder

# (status, fulfilled by, marketplace, currency)
OrderKind = tuple[str, str, str, str | None]


@dataclass(frozen=True, slots=True)
class StoreSummary:
    kinds: Counter[OrderKind]  # how many orders of each kind
    stored: frozenset[str]  # Amazon order ids in the store
    set_aside: dict[str, str]  # Amazon order id -> reason, for those not resolved
    topics: Counter[str]  # outbox events about these orders, by topic


def store_summary(
    sessions: sessionmaker[Session], account_id: int, order_ids: Collection[str]
) -> StoreSummary:
    """What the store holds of ``order_ids`` (Amazon order ids) of the account."""
    wanted = sorted(set(order_ids))
    with sessions() as session:
        rows = session.execute(
            select(
                Order.amazon_order_id,
                Order.status,
                Order.fulfilled_by,
                Order.marketplace_id,
                Order.currency,
            ).where(Order.account_id == account_id, Order.amazon_order_id.in_(wanted))
        ).all()
        aside = session.execute(
            select(SetAsideOrder.amazon_order_id, SetAsideOrder.reason).where(
                SetAsideOrder.account_id == account_id,
                SetAsideOrder.amazon_order_id.in_(wanted),
                SetAsideOrder.resolved_at.is_(None),
            )
        ).all()
        topics = session.execute(
            select(OutboxEvent.topic, func.count())
            .where(OutboxEvent.aggregate_key.in_([order_key(account_id, o) for o in wanted]))
            .group_by(OutboxEvent.topic)
        ).all()
    return StoreSummary(
        kinds=Counter((r.status, r.fulfilled_by, r.marketplace_id, r.currency) for r in rows),
        stored=frozenset(r.amazon_order_id for r in rows),
        set_aside={order_id: reason for order_id, reason in aside},
        topics=Counter({topic: n for topic, n in topics}),
    )
