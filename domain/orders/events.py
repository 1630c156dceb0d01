"""What the platform hears about an order: created, updated or cancelled, and which one a write
of the store produces.

The store writes an order only when the incoming copy is at least as new as the stored one and
differs from it (by ``content_hash``): an older copy (an overlap window, a late page, a backfill
crossing a live sync) never overwrites a newer one, and an identical copy writes nothing and so
emits no event. The store applies that rule inside its upsert, where it holds under concurrency;
``order_event`` says which event a write that happened produces.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.orders.model import AmazonOrder, OrderStatus
from domain.shared.events import Event


def order_key(account_id: int, amazon_order_id: str) -> str:
    """The aggregate of every event about one order (its deliveries stay in order)."""
    return f"order:{account_id}:{amazon_order_id}"


@dataclass(frozen=True, slots=True)
class OrderEvent(Event):
    """An order as the store just wrote it, with the row's version after the write."""

    account_id: int
    order: AmazonOrder
    version: int

    @property
    def aggregate_key(self) -> str:
        return order_key(self.account_id, self.order.amazon_order_id)


@dataclass(frozen=True, slots=True)
class OrderCreated(OrderEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrderUpdated(OrderEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrderCancelled(OrderEvent):
    pass


def order_event(
    account_id: int, previous_status: str | None, incoming: AmazonOrder, version: int
) -> OrderEvent:
    """The event of an order the store just wrote (``previous_status`` None: it is new)."""
    if incoming.status is OrderStatus.CANCELLED and previous_status != OrderStatus.CANCELLED:
        return OrderCancelled(account_id, incoming, version)
    if previous_status is None:
        return OrderCreated(account_id, incoming, version)
    return OrderUpdated(account_id, incoming, version)
