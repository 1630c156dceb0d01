"""Amazon's order report (``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``) -> the same
``domain.orders.AmazonOrder`` the sync makes of ``searchOrders``, one order at a time.

The file is tab-separated with a header, one row per order item; columns are found by their
header name, never by position (Amazon adds columns now and then). Rows are grouped by
``amazon-order-id`` (an order's rows need not be next to each other), then each order is
translated on its own: one that does not read is set aside with the reason and its rows.

What the file carries becomes what the sync stores from the same order: status, fulfilment
channel, purchase and last-update times, service level, business flag, and per line the SKU,
ASIN, title, quantity, unit price and what was charged (item, tax, shipping, shipping tax, gift
wrap: totals for the line), the order's total their sum less promotions. What it lacks is
left empty and the copy marked ``from_report``: no order item ids (each line gets a made-up
id, ``R:<sku>``, ``#n`` for a SKU's next line), no ship-by or deliver-by window, no Prime or
replacement flag, no buyer cancellation request; units shipped are known per line only as all
(``item-status`` Shipped) or none.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.ingestion import FetchedOrder
from domain.orders import (
    REPORT_ITEM_PREFIX,
    AmazonOrder,
    FulfilledBy,
    LineCharges,
    OrderLine,
    OrderStatus,
)
from domain.shared import Money, MoneyError
from infra.amazon.translate.orders import TranslationError, parse_time

ORDERS_REPORT_TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
REQUIRED = (
    "amazon-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sku",
    "quantity",
)
STATUSES = {
    "pendingavailability": OrderStatus.PENDING_AVAILABILITY,
    "pending": OrderStatus.PENDING,
    "unshipped": OrderStatus.UNSHIPPED,
    "partiallyshipped": OrderStatus.PARTIALLY_SHIPPED,
    "shipped": OrderStatus.SHIPPED,
    "cancelled": OrderStatus.CANCELLED,
    "canceled": OrderStatus.CANCELLED,
    "unfulfillable": OrderStatus.UNFULFILLABLE,
}
CHANNELS = {
    "merchant": FulfilledBy.MERCHANT,
    "mfn": FulfilledBy.MERCHANT,
    "amazon": FulfilledBy.AMAZON,
    "afn": FulfilledBy.AMAZON,
}
# The file's service categories as Orders v2026-01-01 names them (``fulfillmentServiceLevel``).
SERVICE_LEVELS = {
    "standard": "STANDARD",
    "expedited": "EXPEDITED",
    "freeeconomy": "FREE_ECONOMY",
    "nextday": "NEXT_DAY",
    "secondday": "SECOND_DAY",
    "sameday": "SAME_DAY",
    "priority": "PRIORITY",
    "scheduled": "SCHEDULED",
}
_ID_LENGTH = 40  # what the store's order_item_id holds
_CHARGE_COLUMNS = (
    ("principal", "item-price"),
    ("tax", "item-tax"),
    ("shipping", "shipping-price"),
    ("shipping_tax", "shipping-tax"),
    ("gift_wrap", "gift-wrap-price"),
    ("gift_wrap_tax", "gift-wrap-tax"),
)
_PENDING = frozenset({OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY})


class OrderReportError(ValueError):
    """The file cannot be read at all (no header, a required column missing)."""


Row = dict[str, str]


def read_rows(lines: Iterable[str]) -> Iterator[Row]:
    """The file's rows by header name; ``OrderReportError`` when its header lacks a column."""
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE, strict=False)
    header = next(reader, None)
    if header is None:
        return
    names = [name.strip().lower() for name in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise OrderReportError(f"the order report has no column {', '.join(missing)}")
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        yield {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)}


def read_orders(lines: Iterable[str], marketplace_id: str) -> Iterator[FetchedOrder]:
    """Each order of the file (of the one marketplace the report was asked for), in the order
    its first row came."""
    grouped: dict[str, list[Row]] = {}
    for row in read_rows(lines):
        grouped.setdefault(row["amazon-order-id"], []).append(row)
    for order_id, rows in grouped.items():
        yield fetched(order_id or "?", rows, marketplace_id)


def fetched(order_id: str, rows: list[Row], marketplace_id: str) -> FetchedOrder:
    raw: dict[str, Any] = {"rows": rows}
    try:
        order = to_domain(rows, marketplace_id)
    except TranslationError as exc:
        return FetchedOrder(amazon_order_id=order_id, raw=raw, problem=str(exc))
    return FetchedOrder(amazon_order_id=order_id, raw=raw, order=order)


def _enum(table: dict[str, Any], value: str, field: str) -> Any:
    found = table.get(value.replace(" ", "").replace("_", "").lower())
    if found is None:
        raise TranslationError(f"{field} {value!r} is not a value we know")
    return found


def _decimal(value: str, field: str) -> Decimal | None:
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise TranslationError(f"{field} {value!r} is not a number") from None
    if not amount.is_finite():
        raise TranslationError(f"{field} {value!r} is not a number")
    return amount


def _line_id(sku: str, seen: dict[str, int]) -> str:
    """A made-up id for a line (``domain.orders.REPORT_ITEM_PREFIX``): the same for the same
    SKU of the same order in every report, so a report read twice writes the same lines."""
    seen[sku] = seen.get(sku, 0) + 1
    made = f"{REPORT_ITEM_PREFIX}{sku}" + (f"#{seen[sku]}" if seen[sku] > 1 else "")
    if len(made) <= _ID_LENGTH:
        return made
    digest = hashlib.sha256(made.encode()).hexdigest()
    return f"{REPORT_ITEM_PREFIX}{digest[: _ID_LENGTH - len(REPORT_ITEM_PREFIX)]}"


def _line(row: Row, index: int, currency: str | None, pending: bool, seen: dict[str, int]) -> Any:
    where = f"rows[{index}]"
    sku = row.get("sku", "")
    if not sku:
        raise TranslationError(f"{where}.sku is missing")
    raw_quantity = row.get("quantity", "")
    if not raw_quantity.isdigit():
        raise TranslationError(f"{where}.quantity {raw_quantity!r} is not a whole number")
    quantity = int(raw_quantity)
    parts = {
        part: _decimal(row.get(column, ""), f"{where}.{column}") for part, column in _CHARGE_COLUMNS
    }
    principal = parts["principal"]
    charges = None
    unit_price = None
    if principal is not None and not pending:
        if currency is None:
            raise TranslationError(f"{where}.currency is missing")
        zero = Decimal(0)
        charges = LineCharges(currency=currency, **{k: v or zero for k, v in parts.items()})
        if quantity:
            unit = (principal / quantity).quantize(Decimal(1).scaleb(_exponent(principal)))
            unit_price = Money(unit, currency)
    discount = Decimal(0)
    for column in _PROMOTIONS:
        off = _decimal(row.get(column, ""), f"{where}.{column}")
        discount += abs(off) if off is not None else Decimal(0)
    status = row.get("item-status", "").replace(" ", "").lower()
    line = OrderLine(
        order_item_id=_line_id(sku, seen),
        quantity_ordered=quantity,
        quantity_shipped=quantity if status == "shipped" else 0,
        sku=sku,
        asin=row.get("asin") or None,
        title=row.get("product-name") or None,
        unit_price=unit_price,
        charges=charges,
    )
    return line, discount


_PROMOTIONS = ("item-promotion-discount", "ship-promotion-discount")


def _exponent(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def to_domain(rows: list[Row], marketplace_id: str) -> AmazonOrder:
    """One order's rows as an order, or ``TranslationError`` naming the field and the reason."""
    first = rows[0]
    order_id = first.get("amazon-order-id", "")
    if not order_id:
        raise TranslationError("amazon-order-id is missing")
    status = _enum(STATUSES, first.get("order-status", ""), "order-status")
    pending = status in _PENDING
    currency = next((r["currency"] for r in rows if r.get("currency")), None)
    if currency is not None:
        try:
            Money(Decimal(0), currency)
        except MoneyError as exc:
            raise TranslationError(f"currency: {exc}") from None
    seen: dict[str, int] = {}
    lines: list[OrderLine] = []
    discount = Decimal(0)
    for index, row in enumerate(rows):
        line, off = _line(row, index, currency, pending, seen)
        lines.append(line)
        discount += off
    total = None
    if lines and all(line.charges is not None for line in lines) and currency is not None:
        charged = sum((line.charges.total.amount for line in lines if line.charges), Decimal(0))
        try:
            total = Money(charged - discount, currency)
        except MoneyError as exc:
            raise TranslationError(f"currency: {exc}") from None
    level = first.get("ship-service-level", "")
    return AmazonOrder(
        amazon_order_id=order_id,
        marketplace_id=marketplace_id,
        status=status,
        fulfilled_by=_enum(CHANNELS, first.get("fulfillment-channel", ""), "fulfillment-channel"),
        purchased_at=parse_time(first.get("purchase-date"), "purchase-date"),
        last_updated_at=parse_time(first.get("last-updated-date"), "last-updated-date"),
        lines=tuple(lines),
        total=total,
        service_level=SERVICE_LEVELS.get(level.replace(" ", "").lower(), level or None),
        is_business=first.get("is-business-order", "").lower() == "true",
        programs=("AMAZON_BUSINESS",)
        if first.get("is-business-order", "").lower() == "true"
        else (),
        from_report=True,
    )
