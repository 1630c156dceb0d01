"""Ship-by deadlines: the open orders due soon with what remains to ship, and each alert
stored once per (order, kind, ship-by date) with its event."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from domain.fulfilments import DeadlineAlert, OpenOrder
from domain.fulfilments.events import ship_by_event
from domain.orders import FulfilledBy, OrderStatus
from infra.db.engine import advisory_lock
from infra.db.fulfilments.base import StoreBase
from infra.db.fulfilments.rows import items_of
from infra.db.tables import Order, ShipByAlert

_OPEN = (OrderStatus.UNSHIPPED.value, OrderStatus.PARTIALLY_SHIPPED.value)


class DeadlinesMixin(StoreBase):
    @contextmanager
    def deadline_lock(self) -> Iterator[bool]:
        """A session advisory lock on its own connection (dropped with a dead process)."""
        with advisory_lock(self.engine, "fulfil:check_deadlines") as locked:
            yield locked

    def open_orders_due_by(self, horizon: datetime) -> list[OpenOrder]:
        with self.sessions() as session:
            orders = session.execute(
                select(
                    Order.id,
                    Order.account_id,
                    Order.amazon_order_id,
                    Order.status,
                    Order.ship_by_latest,
                )
                .where(
                    Order.status.in_(_OPEN),
                    Order.fulfilled_by == FulfilledBy.MERCHANT.value,
                    Order.ship_by_latest.is_not(None),
                    Order.ship_by_latest <= horizon,
                )
                .order_by(Order.ship_by_latest, Order.id)
            ).all()
            items = items_of(session.connection(), [o.id for o in orders]) if orders else {}
        return [
            OpenOrder(
                order_id=o.id,
                account_id=o.account_id,
                amazon_order_id=o.amazon_order_id,
                status=o.status,
                ship_by_latest=o.ship_by_latest,
                items=items.get(o.id, ()),
            )
            for o in orders
        ]

    def record_alerts(self, alerts: Sequence[DeadlineAlert], now: datetime) -> list[DeadlineAlert]:
        if not alerts:
            return []
        by_key = {(a.order.order_id, a.kind.value): a for a in alerts}
        new: list[DeadlineAlert] = []
        with self.sessions.begin() as session:
            stmt = insert(ShipByAlert).values(
                [
                    {
                        "order_id": a.order.order_id,
                        "kind": a.kind.value,
                        "ship_by_latest": a.order.ship_by_latest,
                    }
                    for a in by_key.values()
                ]
            )
            inserted = session.execute(
                stmt.on_conflict_do_nothing(
                    index_elements=[
                        ShipByAlert.order_id,
                        ShipByAlert.kind,
                        ShipByAlert.ship_by_latest,
                    ]
                ).returning(ShipByAlert.order_id, ShipByAlert.kind)
            ).all()
            for order_id, kind in inserted:
                new.append(by_key[(order_id, kind)])
            self._append(session.connection(), [ship_by_event(alert, now) for alert in new])
        return new
