"""Orders and their items as the page upserts write them (one dict per row, by column)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.orders import AmazonOrder, LineCharges, OrderLine, order_total


def order_row(account_id: int, order: AmazonOrder, content_hash: str) -> dict[str, Any]:
    total = order_total(order)
    return {
        "account_id": account_id,
        "amazon_order_id": order.amazon_order_id,
        "marketplace_id": order.marketplace_id,
        "status": order.status.value,
        "fulfilled_by": order.fulfilled_by.value,
        "read_only": order.read_only,
        "currency": order.currency,
        "order_total": total.amount if total is not None else None,
        "purchased_at": order.purchased_at,
        "amazon_updated_at": order.last_updated_at,
        "ship_by_earliest": order.ship_by_earliest,
        "ship_by_latest": order.ship_by_latest,
        "deliver_by_earliest": order.deliver_by_earliest,
        "deliver_by_latest": order.deliver_by_latest,
        "service_level": order.service_level,
        "is_business": order.is_business,
        "is_prime": order.is_prime,
        "is_replacement": order.is_replacement,
        "replaced_order_id": order.replaced_order_id,
        "buyer_cancel_requested": order.buyer_cancel_requested,
        "buyer_cancel_reason": order.buyer_cancel_reason,
        "has_buyer_data": order.has_buyer_data,
        "content_hash": content_hash,
        "detail": "report" if order.from_report else "full",
    }


def item_rows(order_id: int, order: AmazonOrder) -> list[dict[str, Any]]:
    """One row per line, with what Amazon charged for it per part (``charged_*``, None while
    the order is pending)."""
    return [
        {
            "order_id": order_id,
            "order_item_id": line.order_item_id,
            "sku": line.sku,
            "asin": line.asin,
            "title": line.title,
            "quantity_ordered": line.quantity_ordered,
            "quantity_shipped": line.quantity_shipped,
            "currency": _currency(line),
            "unit_price": line.unit_price.amount if line.unit_price else None,
            "cancel_requested": line.cancel_requested,
            "cancel_reason": line.cancel_reason,
            **charged_columns(line.charges),
        }
        for line in order.lines
    ]


def _currency(line: OrderLine) -> str | None:
    if line.unit_price is not None:
        return line.unit_price.currency
    return line.charges.currency if line.charges is not None else None


def charged_columns(charges: LineCharges | None) -> dict[str, Decimal | None]:
    """A line's charges as the ``order_items.charged_*`` columns (all None: nothing charged)."""
    if charges is None:
        return dict.fromkeys(CHARGED_COLUMNS)
    return {
        "charged_principal": charges.principal,
        "charged_shipping": charges.shipping,
        "charged_tax": charges.tax,
        "charged_shipping_tax": charges.shipping_tax,
        "charged_gift_wrap": charges.gift_wrap,
        "charged_gift_wrap_tax": charges.gift_wrap_tax,
    }


CHARGED_COLUMNS = (
    "charged_principal",
    "charged_shipping",
    "charged_tax",
    "charged_shipping_tax",
    "charged_gift_wrap",
    "charged_gift_wrap_tax",
)


@dataclass(frozen=True, slots=True)
class OrderRows:
    """An order with its row and its items' rows, built once per page: checked against the
    columns, then written (an item's ``order_id`` is filled in when its order's row exists)."""

    order: AmazonOrder
    row: dict[str, Any]
    items: list[dict[str, Any]]


def order_rows(account_id: int, order: AmazonOrder) -> OrderRows:
    """Raises ``ArithmeticError`` when the sum of the lines is past what a Decimal holds."""
    return OrderRows(order, order_row(account_id, order, order.content_hash()), item_rows(0, order))


def as_json(account_id: int, order: AmazonOrder) -> dict[str, Any]:
    """The order as its rows would have been written, as JSON (amounts and times as text):
    what a set-aside order keeps when only the store finds it does not fit."""

    def plain(value: Any) -> Any:
        return str(value) if isinstance(value, Decimal | datetime) else value

    try:
        row = order_row(account_id, order, order.content_hash())
    except ArithmeticError:
        row = {"amazon_order_id": order.amazon_order_id}
    return {
        "order": {k: plain(v) for k, v in row.items()},
        "items": [
            {k: plain(v) for k, v in item.items() if k != "order_id"}
            for item in item_rows(0, order)
        ],
    }
