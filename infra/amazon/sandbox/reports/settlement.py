"""A closed financial event group written as Amazon's settlement flat file
(``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``): tab-separated, a header, the summary row, then
one row per amount of the group's events.

The rows are the group's own amounts, so the file's ``total-amount`` is exactly what
``listFinancialEventGroups`` says the group came to (its ``OriginalTotal``) and exactly the sum
of the rows, to the cent:

- a shipment event's items give ``Order`` rows: ``ItemPrice`` (``Principal``, ``Shipping``,
  ``Tax``, ``ShippingTax``, ``GiftWrap``, ``GiftWrapTax``), ``ItemFees`` (``Commission``,
  ``FBAPerUnitFulfillmentFee`` for items Amazon fulfilled) and ``ItemWithheldTax``
  (``MarketplaceFacilitatorTax-Principal`` / ``-Shipping``);
- a refund event's items give ``Refund`` rows: the components refunded (``ItemPrice``), the
  commission given back and the ``RefundCommission`` kept (``ItemFees``), the tax withheld
  given back, with the ``merchant-adjustment-item-id`` our adjustment feed sent (empty for a
  refund made in Seller Central).

Zero amounts are left out (Amazon lists what moved money). ``fulfillment-id`` is ``AFN`` or
``MFN``; ``marketplace-name`` the storefront (``Amazon.com``); amounts in the marketplace's
currency with a dot, times as ``2026-11-01 07:00:00 UTC``. ``promotion-id`` (the 24th column)
is there or not as the control API says. Malformed rows asked for by the control API go after
the summary and carry amounts outside ``total-amount`` (they are set aside, never counted).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from infra.amazon.sandbox.state import (
    MARKETPLACES,
    EventGroup,
    EventItem,
    FinancialEvent,
    SandboxOrder,
    money,
)

COLUMNS_23 = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
)
COLUMNS_24 = (*COLUMNS_23, "promotion-id")

# The financial events' ChargeType -> the flat file's amount-description (amount-type ItemPrice).
_PRICE_DESCRIPTIONS = {"ShippingCharge": "Shipping"}
_WITHHELD = "ItemWithheldTax"

Row = dict[str, str]


def file_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _amount(value: Decimal, currency: str) -> str:
    return str(money(value, currency))


def _amount_rows(item: EventItem) -> Iterator[tuple[str, str, Decimal]]:
    """(amount-type, amount-description, amount) of every non-zero amount of the item."""
    for charge_type, value in item.charges:
        yield "ItemPrice", _PRICE_DESCRIPTIONS.get(charge_type, charge_type), value
    for fee_type, value in item.fees:
        yield "ItemFees", fee_type, value
    for tax_type, value in item.withheld:
        yield _WITHHELD, tax_type, value


def _merchant_adjustment_item_id(order: SandboxOrder | None, item: EventItem) -> str:
    """Our MerchantAdjustmentItemID of the adjustment behind a refund item ("" if none)."""
    if order is None or item.adjustment_item_id is None:
        return ""
    for line in order.items:
        for adjustment in line.adjustments:
            if adjustment.order_adjustment_item_id == item.adjustment_item_id:
                return adjustment.merchant_adjustment_item_id or ""
    return ""


def event_rows(
    settlement_id: str, event: FinancialEvent, order: SandboxOrder | None
) -> Iterator[Row]:
    """One row per non-zero amount of the event."""
    refund = event.kind == "refund"
    channel = "AFN" if order is not None and order.fulfilled_by == "AMAZON" else "MFN"
    common = {
        "settlement-id": settlement_id,
        "transaction-type": "Refund" if refund else "Order",
        "order-id": event.order_id,
        "adjustment-id": f"{40_000_000_000 + event.sequence}" if refund else "",
        "shipment-id": "" if refund else f"D{event.sequence:08d}",
        "marketplace-name": MARKETPLACES[event.marketplace_id].name,
        "fulfillment-id": channel,
        "posted-date": event.posted_at.strftime("%Y-%m-%d"),
        "posted-date-time": file_time(event.posted_at),
    }
    for item in event.items:
        per_item = {
            **common,
            "order-item-code": item.order_item_id,
            "merchant-adjustment-item-id": _merchant_adjustment_item_id(order, item),
            "sku": item.sku,
            "quantity-purchased": str(item.quantity),
        }
        for amount_type, description, value in _amount_rows(item):
            if value == 0:
                continue
            yield {
                **per_item,
                "amount-type": amount_type,
                "amount-description": description,
                "amount": _amount(value, event.currency),
            }


def malformed_row(settlement_id: str, kind: str, currency: str) -> Row:
    """A row the reader must set aside, of one of ``MALFORMED_KINDS``."""
    row: Row = {
        "settlement-id": settlement_id,
        "transaction-type": "other-transaction",
        "amount-type": "other-transaction",
        "amount-description": "SandboxMalformed",
        "amount": _amount(Decimal("1.00"), currency),
        "posted-date-time": "2026-01-01 00:00:00 UTC",
    }
    if kind == "amount":
        row["amount"] = "one euro"
    elif kind == "date":
        row["posted-date-time"] = "yesterday"
    elif kind == "quantity":
        row["quantity-purchased"] = "two"
    elif kind == "settlement":
        row["settlement-id"] = "99999999999"
    elif kind == "short":
        row = {"settlement-id": settlement_id}  # only the first cell: "amount" is empty
    return row


def settlement_rows(
    settlement_id: str,
    group: EventGroup,
    orders: dict[str, SandboxOrder],
    malformed: Iterable[str] = (),
) -> Iterator[Row]:
    """The summary, the malformed rows asked for, then every event's rows in posted order."""
    yield {
        "settlement-id": settlement_id,
        "settlement-start-date": file_time(group.start),
        "settlement-end-date": file_time(group.end),
        "deposit-date": file_time(group.end),
        "total-amount": _amount(group.total, group.currency),
        "currency": group.currency,
    }
    for kind in malformed:
        yield malformed_row(settlement_id, kind, group.currency)
    for event in sorted(group.events, key=lambda e: e.sequence):
        yield from event_rows(settlement_id, event, orders.get(event.order_id))


def write(rows: Iterable[Row], promotion_id: bool) -> tuple[bytes, int]:
    """The file's bytes (UTF-8, ``\\n`` line ends) and how many data rows it holds."""
    columns = COLUMNS_24 if promotion_id else COLUMNS_23
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE)
    writer.writerow(columns)
    count = 0
    for row in rows:
        if len(row) == 1:  # a "short" malformed row: one cell and nothing after it
            writer.writerow([row["settlement-id"]])
        else:
            writer.writerow([row.get(column, "") for column in columns])
        count += 1
    return out.getvalue().encode(), count
