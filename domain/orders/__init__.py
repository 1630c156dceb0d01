"""Amazon orders as the store understands them, and the rules for taking one in."""

from domain.orders.events import (
    OrderCancelled,
    OrderCreated,
    OrderEvent,
    OrderUpdated,
    order_event,
    order_key,
)
from domain.orders.model import (
    OPEN_STATUSES,
    PRICED_STATUSES,
    REPORT_ITEM_PREFIX,
    STAND_IN_ITEMS,
    AmazonOrder,
    FulfilledBy,
    LineCharges,
    OrderLine,
    OrderStatus,
    has_stand_in_items,
)
from domain.orders.rules import OrderProblem, check_order, order_total

__all__ = [
    "OPEN_STATUSES",
    "PRICED_STATUSES",
    "REPORT_ITEM_PREFIX",
    "STAND_IN_ITEMS",
    "AmazonOrder",
    "FulfilledBy",
    "LineCharges",
    "OrderCancelled",
    "OrderCreated",
    "OrderEvent",
    "OrderLine",
    "OrderProblem",
    "OrderStatus",
    "OrderUpdated",
    "check_order",
    "has_stand_in_items",
    "order_event",
    "order_key",
    "order_total",
]
