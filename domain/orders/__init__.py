"""Amazon orders as the store understands them, and the rules for taking one in."""

from domain.orders.model import (
    OPEN_STATUSES,
    PRICED_STATUSES,
    AmazonOrder,
    FulfilledBy,
    OrderLine,
    OrderStatus,
)
from domain.orders.rules import OrderProblem, Topic, check_order, event_topic, order_total

__all__ = [
    "OPEN_STATUSES",
    "PRICED_STATUSES",
    "AmazonOrder",
    "FulfilledBy",
    "OrderLine",
    "OrderProblem",
    "OrderStatus",
    "Topic",
    "check_order",
    "event_topic",
    "order_total",
]
