"""What the demo prints of the store for one account: its orders by kind, the set-aside ones
with their reasons, and the events written for the platform."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.db.tables import Order, OutboxEvent, SetAsideOrder

# (status, fulfilled by, marketplace, currency)
OrderKind = tuple[str, str, str, str | None]


@dataclass(frozen=True, slots=True)
class StoreSummary:
    kinds: Counter[OrderKind]  # how many orders of each kind
    stored: frozenset[str]  # Amazon order ids in the store
    set_aside: dict[str, str]  # Amazon order id -> reason, for those not resolved
    topics: Counter[str]  # outbox events by topic (every account's)


def store_summary(sessions: sessionmaker[Session], account_id: int) -> StoreSummary:
    with sessions() as session:
        rows = session.execute(
            select(Order.status, Order.fulfilled_by, Order.marketplace_id, Order.currency).where(
                Order.account_id == account_id
            )
        ).all()
        stored = session.scalars(
            select(Order.amazon_order_id).where(Order.account_id == account_id)
        ).all()
        aside = session.execute(
            select(SetAsideOrder.amazon_order_id, SetAsideOrder.reason).where(
                SetAsideOrder.account_id == account_id, SetAsideOrder.resolved_at.is_(None)
            )
        ).all()
        topics = session.execute(
            select(OutboxEvent.topic, func.count()).group_by(OutboxEvent.topic)
        ).all()
    return StoreSummary(
        kinds=Counter((r.status, r.fulfilled_by, r.marketplace_id, r.currency) for r in rows),
        stored=frozenset(stored),
        set_aside={order_id: reason for order_id, reason in aside},
        topics=Counter({topic: n for topic, n in topics}),
    )
