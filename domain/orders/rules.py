"""The rules for taking an order in: ``check_order`` decides whether it can be stored as-is or
must be set aside (with a reason), so that one odd order never stops the sync of the others;
``order_total`` prices it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.orders.model import AmazonOrder
from domain.shared import DomainError, Money

# Amazon keeps two years of orders; anything before its marketplace existed is junk.
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
CLOCK_SKEW_ALLOWANCE = timedelta(hours=1)


class OrderProblem(ValueError, DomainError):
    """Why an order cannot be stored as-is; it is set aside with this reason."""


def check_order(order: AmazonOrder, now: datetime) -> None:
    """Raise ``OrderProblem`` for an order the store must not take as-is."""
    if not order.amazon_order_id:
        raise OrderProblem("the order has no Amazon order id")
    if not order.lines:
        raise OrderProblem("the order has no items")
    latest_plausible = now + CLOCK_SKEW_ALLOWANCE
    if not EARLIEST_PLAUSIBLE <= order.purchased_at <= latest_plausible:
        raise OrderProblem(f"purchase date {order.purchased_at.isoformat()} makes no sense")
    if order.last_updated_at < order.purchased_at:
        raise OrderProblem("last update is before the purchase")
    if (
        order.ship_by_latest is not None
        and order.ship_by_earliest is not None
        and order.ship_by_latest < order.ship_by_earliest
    ):
        raise OrderProblem("ship-by window ends before it starts")
    seen: set[str] = set()
    for line in order.lines:
        if line.order_item_id in seen:
            raise OrderProblem(f"order item {line.order_item_id} appears twice")
        seen.add(line.order_item_id)
        if line.quantity_ordered < 0 or line.quantity_shipped < 0:
            raise OrderProblem(f"order item {line.order_item_id} has a negative quantity")
    currencies = {line.unit_price.currency for line in order.lines if line.unit_price is not None}
    if order.total is not None:
        currencies.add(order.total.currency)
    if len(currencies) > 1:
        raise OrderProblem(f"the order mixes currencies {sorted(currencies)}")


def order_total(order: AmazonOrder) -> Money | None:
    """The order's total, or the sum of its lines when Amazon sent none (pending orders: none)."""
    if order.total is not None:
        return order.total
    priced = [line for line in order.lines if line.unit_price is not None]
    if not priced or len(priced) != len(order.lines):
        return None
    currency = priced[0].unit_price.currency  # type: ignore[union-attr]
    amount = sum(
        (line.unit_price.amount * line.quantity_ordered for line in priced),  # type: ignore[union-attr]
        Decimal(0),
    )
    return Money(amount, currency)
