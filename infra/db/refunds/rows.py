"""Rows of the refund store read back as the domain's values, and the domain's values as rows.

A refund is its ``refunds`` row and its ``refund_lines``; each line keeps one column per
component (``item_price`` ... ``return_shipping``, named as ``components.FIELD_NAMES`` spells
them), zero for a component it does not give back. Read back, a line carries only the
components it gives back, in ``Component``'s order, and amounts with the currency's decimals
(the columns keep four: 3.3300 reads 3.33), so a refund reads the same from the fake store and
from this one. An order is read with its items and what each charged
(``order_items.charged_*``), which is what a refund is checked against.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Connection, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from domain.orders import AmazonOrder, FulfilledBy, LineCharges, OrderLine, OrderStatus
from domain.refunds import (
    FIELD_OF,
    Component,
    Refund,
    RefundKind,
    RefundLine,
    RefundSource,
    RefundState,
)
from domain.refunds.amounts import tidy
from domain.shared import Money
from infra.db.sql.compiled import Compiled
from infra.db.tables import OrderItem
from infra.db.tables import Refund as RefundRow
from infra.db.tables import RefundLine as RefundLineRow

_TABLES = RefundRow.metadata.tables
R = _TABLES[RefundRow.__tablename__]
L = _TABLES[RefundLineRow.__tablename__]
_I = _TABLES[OrderItem.__tablename__]

# Each component's column of ``refund_lines`` (the request's field names are the columns').
COLUMN_OF: dict[Component, str] = {component: FIELD_OF[component] for component in Component}
_ZERO = Decimal(0)

_IDS = bindparam("p_ids", type_=ARRAY(BigInteger()))
REFUNDS_BY_ID = Compiled(select(R).where(R.c.id == any_(_IDS)).order_by(R.c.id))
LINES_OF = Compiled(select(L).where(L.c.refund_id == any_(_IDS)).order_by(L.c.refund_id, L.c.id))
# An order's items with what each charged. A statement of its own after the order's lock: one
# that waited for the lock still reads with the snapshot it started with.
ITEMS_OF_ORDER = Compiled(
    select(_I).where(_I.c.order_id == bindparam("p_order_id")).order_by(_I.c.id)
)


# --- lines ------------------------------------------------------------------------------------


def line_values(line: RefundLine) -> dict[str, Decimal]:
    """A line's amounts as the nine component columns (zero where it gives nothing back)."""
    values = dict.fromkeys(COLUMN_OF.values(), _ZERO)
    for component, money in line.amounts:
        values[COLUMN_OF[component]] += money.amount
    return values


def amounts_of(row: Any, currency: str) -> tuple[tuple[Component, Money], ...]:
    """The components a ``refund_lines`` row gives back (not zero), in ``Component``'s order."""
    found = []
    for component, column in COLUMN_OF.items():
        amount = getattr(row, column)
        if amount is not None and amount != 0:
            found.append((component, Money(tidy(Decimal(amount), currency), currency)))
    return tuple(found)


def line_of(row: Any, currency: str) -> RefundLine:
    return RefundLine(
        id=row.id,
        order_item_id=row.order_item_id,
        sku=row.sku,
        amounts=amounts_of(row, currency),
        quantity=row.quantity,
    )


# --- refunds ----------------------------------------------------------------------------------


def refund_of(row: Any, lines: Iterable[Any] = ()) -> Refund:
    """A ``refunds`` row (any row with its columns: the table's, a RETURNING, a CTE) and its
    ``refund_lines`` rows as the domain's ``Refund``."""
    return Refund(
        id=row.id,
        kind=RefundKind(row.kind),
        source=RefundSource(row.source),
        account_id=row.account_id,
        amazon_order_id=row.amazon_order_id,
        marketplace_id=row.marketplace_id,
        platform_id=row.platform_id,
        reason=row.reason,
        currency=row.currency,
        state=RefundState(row.state),
        lines=tuple(line_of(line, row.currency) for line in lines),
        fingerprint=row.fingerprint or "",
        created_at=row.created_at,
        whole_order=row.whole_order,
        submission_id=row.submission_id,
        attempts=row.attempts,
        failure_code=row.failure_code,
        failure_reason=row.failure_reason,
        confirmed_at=row.confirmed_at,
        posted_at=row.posted_at,
    )


def refund_values(
    refund: Refund, *, order_id: int | None, amazon_key: str | None = None
) -> dict[str, Any]:
    """A refund's ``refunds`` columns for an INSERT (its id, times and counters are the
    store's: left out)."""
    return {
        "kind": refund.kind.value,
        "source": refund.source.value,
        "account_id": refund.account_id,
        "order_id": order_id,
        "amazon_order_id": refund.amazon_order_id,
        "marketplace_id": refund.marketplace_id,
        "platform_id": refund.platform_id,
        "amazon_key": amazon_key,
        "fingerprint": refund.fingerprint or None,
        "reason": refund.reason,
        "currency": refund.currency,
        "whole_order": refund.whole_order,
        "state": refund.state.value,
        "confirmed_at": refund.confirmed_at,
        "posted_at": refund.posted_at,
    }


def lines_values(refund_id: int, lines: Iterable[RefundLine]) -> list[dict[str, Any]]:
    """A refund's ``refund_lines`` rows for an INSERT (ids are the store's)."""
    return [
        {
            "refund_id": refund_id,
            "order_item_id": line.order_item_id,
            "sku": line.sku,
            "quantity": line.quantity,
            **line_values(line),
        }
        for line in lines
    ]


def with_lines(conn: Connection, rows: Sequence[Any]) -> list[Refund]:
    """Refund rows (selected however the caller likes) with their lines, in ``rows``' order."""
    if not rows:
        return []
    lines: dict[int, list[Any]] = {row.id: [] for row in rows}
    for line in LINES_OF.all(conn, {"p_ids": list(lines)}):
        lines[line.refund_id].append(line)
    return [refund_of(row, lines[row.id]) for row in rows]


def load(conn: Connection, refund_ids: Sequence[int]) -> list[Refund]:
    """These refunds with their lines, by id (the ones that exist)."""
    if not refund_ids:
        return []
    return with_lines(conn, REFUNDS_BY_ID.all(conn, {"p_ids": list(refund_ids)}))


def load_one(conn: Connection, refund_id: int) -> Refund | None:
    found = load(conn, [refund_id])
    return found[0] if found else None


# --- orders with their charges ----------------------------------------------------------------


def charges_of(row: Any, currency: str | None) -> LineCharges | None:
    """An ``order_items`` row's charges; None while nothing was charged (pending) or when the
    store cannot tell the currency."""
    if row.charged_principal is None:
        return None
    line_currency = row.currency or currency
    if line_currency is None:
        return None

    def part(value: Decimal | None) -> Decimal:
        return tidy(value, line_currency) if value is not None else _ZERO

    return LineCharges(
        currency=line_currency,
        principal=part(row.charged_principal),
        shipping=part(row.charged_shipping),
        tax=part(row.charged_tax),
        shipping_tax=part(row.charged_shipping_tax),
        gift_wrap=part(row.charged_gift_wrap),
        gift_wrap_tax=part(row.charged_gift_wrap_tax),
    )


def order_line_of(row: Any, currency: str | None) -> OrderLine:
    return OrderLine(
        order_item_id=row.order_item_id,
        quantity_ordered=row.quantity_ordered,
        quantity_shipped=row.quantity_shipped,
        sku=row.sku,
        asin=row.asin,
        title=row.title,
        unit_price=(
            Money(row.unit_price, row.currency)
            if row.unit_price is not None and row.currency is not None
            else None
        ),
        cancel_requested=row.cancel_requested,
        cancel_reason=row.cancel_reason,
        charges=charges_of(row, currency),
    )


def order_of(order: Any, items: Iterable[Any]) -> AmazonOrder:
    """An ``orders`` row and its ``order_items`` rows as the domain's order, with the charges."""
    total = (
        Money(order.order_total, order.currency)
        if order.order_total is not None and order.currency is not None
        else None
    )
    return AmazonOrder(
        amazon_order_id=order.amazon_order_id,
        marketplace_id=order.marketplace_id,
        status=OrderStatus(order.status),
        fulfilled_by=FulfilledBy(order.fulfilled_by),
        purchased_at=order.purchased_at,
        last_updated_at=order.amazon_updated_at,
        lines=tuple(order_line_of(item, order.currency) for item in items),
        total=total,
        ship_by_earliest=order.ship_by_earliest,
        ship_by_latest=order.ship_by_latest,
        deliver_by_earliest=order.deliver_by_earliest,
        deliver_by_latest=order.deliver_by_latest,
        service_level=order.service_level,
        is_business=order.is_business,
        is_prime=order.is_prime,
        is_replacement=order.is_replacement,
        replaced_order_id=order.replaced_order_id,
        has_buyer_data=order.has_buyer_data,
    )


def load_order(conn: Connection, order: Any) -> AmazonOrder:
    """An ``orders`` row (locked or not by the caller) with its items read now."""
    return order_of(order, ITEMS_OF_ORDER.all(conn, {"p_order_id": order.id}))
