"""Ingestion's page upserts: constant statements over arrays (``unnest``), so the SQL text never
changes with the page size, nothing is recompiled per page and PostgreSQL plans once.

Only a newer copy that differs is written (``domain.orders.events``): the upsert's ``WHERE``
holds that rule under concurrency, and ``RETURNING`` says which orders were written. A copy
taken from an order report (``detail`` 'report', a backfill) is poorer than one from the Orders
API: it never replaces a full copy, however new, while a full copy as new replaces it (the sync
brings the newer full copy of an order that changed since: it is in the sync's window).
"""

from __future__ import annotations

from typing import Any

ORDER_TYPES: dict[str, str] = {
    "account_id": "bigint",
    "amazon_order_id": "text",
    "marketplace_id": "text",
    "status": "text",
    "fulfilled_by": "text",
    "read_only": "boolean",
    "currency": "text",
    "order_total": "numeric",
    "purchased_at": "timestamptz",
    "amazon_updated_at": "timestamptz",
    "ship_by_earliest": "timestamptz",
    "ship_by_latest": "timestamptz",
    "deliver_by_earliest": "timestamptz",
    "deliver_by_latest": "timestamptz",
    "service_level": "text",
    "is_business": "boolean",
    "is_prime": "boolean",
    "is_replacement": "boolean",
    "replaced_order_id": "text",
    "buyer_cancel_requested": "boolean",
    "buyer_cancel_reason": "text",
    "has_buyer_data": "boolean",
    "content_hash": "text",
    "detail": "text",
}
ITEM_TYPES: dict[str, str] = {
    "order_id": "bigint",
    "order_item_id": "text",
    "sku": "text",
    "asin": "text",
    "title": "text",
    "quantity_ordered": "integer",
    "quantity_shipped": "integer",
    "currency": "text",
    "unit_price": "numeric",
    "cancel_requested": "boolean",
    "cancel_reason": "text",
    "charged_principal": "numeric",
    "charged_shipping": "numeric",
    "charged_tax": "numeric",
    "charged_shipping_tax": "numeric",
    "charged_gift_wrap": "numeric",
    "charged_gift_wrap_tax": "numeric",
}

# An upsert rewrites every column but the conflict key.
_ORDER_UPDATE_COLUMNS = tuple(c for c in ORDER_TYPES if c not in ("account_id", "amazon_order_id"))
_ITEM_UPDATE_COLUMNS = tuple(c for c in ITEM_TYPES if c not in ("order_id", "order_item_id"))


def _unnest(types: dict[str, str]) -> str:
    casts = ", ".join(f"CAST(%({c})b AS {t}[])" for c, t in types.items())
    return f"SELECT * FROM unnest({casts})"


def columns(rows: list[dict[str, Any]], types: dict[str, str]) -> dict[str, list[Any]]:
    """Rows as one array per column, the parameters of the statements below."""
    return {c: [row[c] for row in rows] for c in types}


UPSERT_ORDERS = (
    f"INSERT INTO orders ({', '.join(ORDER_TYPES)}) {_unnest(ORDER_TYPES)} "
    "ON CONFLICT (account_id, amazon_order_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _ORDER_UPDATE_COLUMNS)
    + ", version = orders.version + 1, updated_at = now() "
    "WHERE orders.amazon_updated_at <= excluded.amazon_updated_at "
    "AND orders.content_hash <> excluded.content_hash "
    "AND (excluded.detail = 'full' OR orders.detail = 'report') "
    "RETURNING id, amazon_order_id, version"
)
UPSERT_ITEMS = (
    f"INSERT INTO order_items ({', '.join(ITEM_TYPES)}) {_unnest(ITEM_TYPES)} "
    "ON CONFLICT (order_id, order_item_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _ITEM_UPDATE_COLUMNS)
)

# The lines of orders whose stored copy came from a report, dropped before a new copy's lines
# are written: a report names no item ids, so its lines' made-up ids would stay beside the real
# ones (and a later report's lines are the whole of the order again).
DELETE_REPORT_ITEMS = "DELETE FROM order_items WHERE order_id = ANY(CAST(%(ids)s AS bigint[]))"
