"""Values the tests start from: an order as a sync hands it over, as Amazon sent it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from domain.ingestion import FetchedOrder
from domain.orders import AmazonOrder, FulfilledBy, OrderLine, OrderStatus
from domain.shared import Money
from tests.fakes.clock import T0


def make_order(n: int, **changes: object) -> AmazonOrder:
    order = AmazonOrder(
        amazon_order_id=f"113-{n:07d}-0000001",
        marketplace_id="ATVPDKIKX0DER",
        status=OrderStatus.UNSHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        purchased_at=T0 - timedelta(hours=2),
        last_updated_at=T0 - timedelta(hours=1),
        lines=(
            OrderLine(
                order_item_id=f"{n:014d}",
                quantity_ordered=2,
                quantity_shipped=0,
                sku=f"SKU-{n}",
                unit_price=Money(Decimal("9.99"), "USD"),
            ),
        ),
        total=Money(Decimal("19.98"), "USD"),
    )
    return replace(order, **changes)  # type: ignore[arg-type]


def fetched(order: AmazonOrder) -> FetchedOrder:
    return FetchedOrder(amazon_order_id=order.amazon_order_id, raw={}, order=order)
