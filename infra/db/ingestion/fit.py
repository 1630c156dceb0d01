"""Whether an order fits the columns it is written to, checked before a page's upsert: one
order longer, larger or stranger than a column holds would fail the whole page's transaction,
so it is set aside with the reason instead and the rest of the page is stored.

The limits are read once per process from the tables themselves (``String(length)``,
``Integer``, ``BigInteger``, ``Numeric(precision, scale)``; NUL and lone surrogates in any
text), so a migration that widens a column widens the check with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, FromClause, Integer, Numeric, String

from domain.orders import AmazonOrder
from infra.db.ingestion.rows import OrderRows, order_rows
from infra.db.jsonb import UNSTORABLE, shown
from infra.db.sql.ingestion import ITEM_TYPES, ORDER_TYPES
from infra.db.tables import Order, OrderItem

_RANGES = {"bigint": 2**63 - 1, "integer": 2**31 - 1, "smallint": 2**15 - 1}


@dataclass(frozen=True, slots=True)
class ColumnLimits:
    """What the columns a row is written to hold, by kind: text with its length (None for
    unbounded), whole numbers with their largest value, decimals with the bound of their size
    and the places they keep."""

    texts: tuple[tuple[str, int | None], ...]
    integers: tuple[tuple[str, int], ...]
    decimals: tuple[tuple[str, Decimal, Decimal, str], ...]


def column_limits(table: FromClause, names: tuple[str, ...]) -> ColumnLimits:
    """The limits of ``table``'s columns ``names`` (the columns a statement writes)."""
    texts: list[tuple[str, int | None]] = []
    integers: list[tuple[str, int]] = []
    decimals: list[tuple[str, Decimal, Decimal, str]] = []
    for name in names:
        kind = table.columns[name].type
        if isinstance(kind, String):
            texts.append((name, kind.length))
        elif isinstance(kind, Integer):
            largest = _RANGES["bigint" if isinstance(kind, BigInteger) else "integer"]
            integers.append((name, largest))
        elif isinstance(kind, Numeric) and kind.precision is not None:
            scale = kind.scale or 0
            bound = Decimal(10) ** (kind.precision - scale)
            # PostgreSQL rounds to the scale first (half away from zero): a value that rounds
            # up to the bound does not fit either.
            rounds_up = bound - Decimal(5).scaleb(-scale - 1)
            decimals.append((name, bound, rounds_up, f"numeric({kind.precision}, {scale})"))
    return ColumnLimits(tuple(texts), tuple(integers), tuple(decimals))


def text_length(table: FromClause, name: str) -> int:
    """The length of ``table``'s text column ``name``."""
    kind = table.columns[name].type
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


@cache
def _order_limits() -> ColumnLimits:
    return column_limits(Order.__table__, tuple(ORDER_TYPES))


@cache
def _item_limits() -> ColumnLimits:
    return column_limits(OrderItem.__table__, tuple(ITEM_TYPES))


def row_misfit(row: dict[str, Any], limits: ColumnLimits) -> str | None:
    """Why ``row`` does not fit its columns, naming the first column that does not, or None."""
    for name, length in limits.texts:
        value = row[name]
        if value is None:
            continue
        if not isinstance(value, str):
            return f"{name} is not text"
        if length is not None and len(value) > length:
            return f"{name} is longer than the store holds ({length} characters)"
        # ASCII holds no surrogate; NUL is the one ASCII character the store refuses.
        if ("\x00" in value) if value.isascii() else UNSTORABLE.search(value) is not None:
            return f"{name} holds NUL or a lone surrogate, which the store refuses"
    for name, largest in limits.integers:
        value = row[name]
        if value is not None and not -largest - 1 <= value <= largest:
            return f"{name} {shown(value)} is past what the store holds ({largest})"
    for name, bound, rounds_up, kind in limits.decimals:
        value = row[name]
        if value is not None and not abs(value) < rounds_up:
            return (
                f"{name} {_decimal(value)} is past what the store holds ({kind}: under {bound:,})"
            )
    return None


def rows_misfit(rows: OrderRows) -> str | None:
    """Why an order's row or one of its items' rows does not fit the store, or None."""
    problem = row_misfit(rows.row, _order_limits())
    if problem is not None:
        return problem
    items = _item_limits()
    for index, item in enumerate(rows.items):
        problem = row_misfit(item, items)
        if problem is not None:
            return f"items[{index}].{problem}"
    return None


def order_misfit(account_id: int, order: AmazonOrder) -> str | None:
    """Why ``order`` does not fit the store, or None."""
    try:
        rows = order_rows(account_id, order)
    except ArithmeticError:
        return SUM_PAST_DECIMAL
    return rows_misfit(rows)


SUM_PAST_DECIMAL = "order_total, the sum of the items, is past what the store holds"


def _decimal(value: Decimal) -> str:
    text = str(value)
    return text if len(text) <= 30 else text[:30] + f"... ({len(text)} characters)"
