"""Rows of the fulfilment store read back as the domain's values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from domain.fulfilments import Fulfilment, FulfilmentState, ItemSnapshot, PackageLine
from infra.db.fulfilments.statements import ITEMS, LOAD_BY_ID
from infra.db.tables import Fulfilment as FulfilmentRow


def amazon_view(row: FulfilmentRow) -> str | None:
    """For operators: what the read-back after the confirmation found, or that it is pending."""
    if row.read_back_due_at is not None:
        return f"read-back pending, next try {row.read_back_due_at:%H:%M:%S} UTC"
    if row.amazon_checked_at is not None:
        return f"order {row.amazon_order_status}, package {row.amazon_package_status or 'unlisted'}"
    return None


def fulfilments_of(rows: Iterable[Row[Any]]) -> list[Fulfilment]:
    """Rows of ``statements.with_lines`` grouped back into fulfilments."""
    found: dict[int, tuple[Row[Any], list[PackageLine]]] = {}
    for row in rows:
        entry = found.get(row.id)
        if entry is None:
            entry = found[row.id] = (row, [])
        if row.line_id is not None:
            entry[1].append(PackageLine(row.line_order_item_id, row.line_quantity, row.line_sku))
    return [
        fulfilment_of(row, row.order_marketplace_id, row.order_ship_by_latest, lines)
        for row, lines in found.values()
    ]


def fulfilment_of(
    row: Any,
    marketplace_id: str,
    ship_by_latest: datetime | None,
    lines: Sequence[PackageLine],
) -> Fulfilment:
    return Fulfilment(
        id=row.id,
        account_id=row.account_id,
        order_id=row.order_id,
        amazon_order_id=row.amazon_order_id,
        marketplace_id=marketplace_id,
        platform_fulfilment_id=row.platform_fulfilment_id,
        state=FulfilmentState(row.state),
        shipped_at=row.shipped_at,
        carrier_code=row.carrier_code,
        carrier_name=row.carrier_name,
        shipping_method=row.shipping_method,
        tracking_number=row.tracking_number,
        lines=tuple(lines),
        fingerprint=row.fingerprint,
        attempts=row.attempts,
        ship_by_latest=ship_by_latest,
        last_error=row.last_error,
        failure_code=row.failure_code,
        failure_reason=row.failure_reason,
    )


def load_one(conn: Connection, fulfilment_id: int) -> Fulfilment | None:
    found = fulfilments_of(LOAD_BY_ID.all(conn, {"p_id": fulfilment_id}))
    return found[0] if found else None


def items_of(conn: Connection, order_ids: Sequence[int]) -> dict[int, tuple[ItemSnapshot, ...]]:
    """Each order's items with Amazon's shipped count and ours (confirmed / in flight)."""
    items: dict[int, list[ItemSnapshot]] = {}
    for row in ITEMS.all(conn, {"p_order_ids": list(order_ids)}):
        items.setdefault(row.order_id, []).append(
            ItemSnapshot(
                order_item_id=row.order_item_id,
                sku=row.sku,
                quantity_ordered=row.quantity_ordered,
                quantity_shipped=row.quantity_shipped,
                quantity_confirmed=int(row.confirmed),
                quantity_pending=int(row.pending),
                cancel_requested=row.cancel_requested,
            )
        )
    return {order_id: tuple(found) for order_id, found in items.items()}
