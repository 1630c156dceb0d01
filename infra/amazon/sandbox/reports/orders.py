"""The sandbox's orders written as Amazon's order report
``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``: tab-separated, Amazon's 32 columns in
Amazon's order, one row per order item, for the orders of the seller's asked marketplaces last
updated inside the report's data window.

Drawn from the same records as both Orders APIs, so a report and ``searchOrders`` never
disagree. What Amazon's file shows, kept here:

- no order item id (the file has none), no ship-by or deliver-by window, no buyer cancellation
  request, no Prime flag: the rows carry what the column list names, nothing more;
- statuses in the file's words (``Pending``, ``Unshipped``, ``PartiallyShipped``, ``Shipped``,
  ``Cancelled``), ``fulfillment-channel`` ``Amazon`` or ``Merchant``, ``sales-channel`` the
  storefront (``Amazon.com``), ``ship-service-level`` the service category (``Standard``);
- ``item-price``, ``item-tax``, ``shipping-price``, ``shipping-tax`` are totals for the line
  (not per unit), empty while the order is pending (nothing is charged yet);
- ``item-status`` ``Shipped`` once every unit of the line shipped, ``Cancelled`` on a
  cancelled order, else the order's status; times as ``2026-11-01T07:00:00+00:00``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from infra.amazon.sandbox.state import MARKETPLACES, SandboxItem, SandboxOrder, shipping_tax

ORDERS_REPORT_TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
COLUMNS = (
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "url",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
)
FILE_STATUS = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Cancelled",
    "UNFULFILLABLE": "Unfulfillable",
}
FILE_CHANNEL = {"MERCHANT": "Merchant", "AMAZON": "Amazon"}
FILE_SERVICE_LEVEL = {
    "STANDARD": "Standard",
    "EXPEDITED": "Expedited",
    "FREE_ECONOMY": "FreeEconomy",
    "NEXT_DAY": "NextDay",
    "SECOND_DAY": "SecondDay",
    "SAME_DAY": "SameDay",
    "PRIORITY": "Priority",
    "SCHEDULED": "Scheduled",
}


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _item_status(order: SandboxOrder, item: SandboxItem) -> str:
    if order.status == "CANCELLED":
        return "Cancelled"
    if item.quantity_shipped and item.quantity_shipped >= item.quantity - item.quantity_cancelled:
        return "Shipped"
    return "Pending" if order.pending else "Unshipped"


def _row(order: SandboxOrder, item: SandboxItem) -> dict[str, str]:
    marketplace = MARKETPLACES[order.marketplace_id]
    address = order.address
    row = {
        "amazon-order-id": order.order_id,
        "merchant-order-id": "",
        "purchase-date": _time(order.created_at),
        "last-updated-date": _time(order.updated_at),
        "order-status": FILE_STATUS[order.status],
        "fulfillment-channel": FILE_CHANNEL[order.fulfilled_by],
        "sales-channel": marketplace.name,
        "order-channel": "",
        "url": "",
        "ship-service-level": FILE_SERVICE_LEVEL.get(order.service_level, "Standard"),
        "product-name": item.title,
        "sku": item.sku,
        "asin": item.asin,
        "item-status": _item_status(order, item),
        "quantity": str(item.quantity),
        "currency": order.currency,
        "promotion-ids": "",
        "is-business-order": "true" if order.business else "false",
        "purchase-order-number": order.purchase_order_number or "",
        "price-designation": "BusinessPrice" if order.business else "",
    }
    if not order.pending:
        ship_tax = shipping_tax(item, order.currency)
        zero = str(Decimal("0.00"))
        row |= {
            "item-price": str(item.unit_price * item.quantity),
            "item-tax": str(item.tax - ship_tax),
            "shipping-price": str(item.shipping_price),
            "shipping-tax": str(ship_tax),
            "gift-wrap-price": zero,
            "gift-wrap-tax": zero,
            "item-promotion-discount": zero,
            "ship-promotion-discount": zero,
            "ship-city": address.get("city", ""),
            "ship-state": address.get("stateOrRegion", ""),
            "ship-postal-code": address.get("postalCode", ""),
            "ship-country": address.get("countryCode", ""),
        }
    return row


def report_orders(
    orders: Sequence[SandboxOrder],
    seller_id: str,
    marketplace_ids: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[SandboxOrder]:
    """The seller's orders of the marketplaces last updated in [start, end], oldest first."""
    wanted = set(marketplace_ids)
    found = [
        o
        for o in orders
        if o.seller_id == seller_id
        and o.marketplace_id in wanted
        and start <= o.updated_at <= end
        and not o.overrides  # an order a test made odd exists only in the Orders API's JSON
    ]
    return sorted(found, key=lambda o: (o.updated_at, o.order_id))


def _rows(orders: Sequence[SandboxOrder]) -> Iterator[dict[str, str]]:
    for order in orders:
        for item in order.items:
            yield _row(order, item)


def write(orders: Sequence[SandboxOrder]) -> tuple[bytes, int]:
    """The file's bytes (UTF-8, ``\\n`` line ends) and how many data rows it holds."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE)
    writer.writerow(COLUMNS)
    count = 0
    for row in _rows(orders):
        writer.writerow([_clean(row.get(column, "")) for column in COLUMNS])
        count += 1
    return out.getvalue().encode(), count


def _clean(value: str) -> str:
    """A cell as Amazon writes it: no tab or line break inside (a title may hold one)."""
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


# Sandbox seconds a requested order report spends in each state before it is done: Amazon takes
# seconds to minutes; a short, fixed pace keeps the client's polling honest without slowing tests.
QUEUED_S = 2.0
PROCESSING_S = 3.0
