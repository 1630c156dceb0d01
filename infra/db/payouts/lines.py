"""A batch of settlement lines saved fast and once: COPY into a staging table, then one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` into the lines.

COPY is PostgreSQL's bulk path (one stream, no statement per row); the staging table makes it
idempotent, since COPY itself cannot skip a row that is already there. The staging table is
temporary (this connection's alone, emptied at each commit; a batch rolled back leaves nothing in
it either) and made once per connection. The
alternative, psycopg's ``executemany`` in pipeline mode of the same INSERT, was measured in the
benchmark's development on the same 200,000 lines and was several times slower (one bound
statement per row on the server), so it is not kept.

Rows set aside are few: a plain multi-row INSERT with the same conflict rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert

from domain.payouts import SetAsideLine, SettlementLine, classify
from infra.db.payouts.base import A, driver

# The line's columns in COPY order (settlement_row_id first, then the line's own).
COLUMNS = (
    "settlement_row_id",
    "line_no",
    "kind",
    "transaction_type",
    "amount_type",
    "amount_description",
    "amount",
    "currency",
    "order_id",
    "merchant_order_id",
    "adjustment_id",
    "shipment_id",
    "marketplace_name",
    "fulfillment_id",
    "posted_at",
    "order_item_code",
    "merchant_order_item_id",
    "merchant_adjustment_item_id",
    "sku",
    "quantity",
    "promotion_id",
)
_NAMES = ", ".join(COLUMNS)
STAGING = "payout_lines_staging"
_CREATE_STAGING = (
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} ON COMMIT DELETE ROWS AS"
    f" SELECT {_NAMES} FROM settlement_lines WITH NO DATA"
)
_COPY = f"COPY {STAGING} ({_NAMES}) FROM STDIN"
_MOVE = (
    f"INSERT INTO settlement_lines ({_NAMES}) SELECT {_NAMES} FROM {STAGING}"
    " ON CONFLICT (settlement_row_id, line_no) DO NOTHING"
)


def row_of(settlement_row_id: int, line: SettlementLine) -> tuple[Any, ...]:
    """The line as COPY's row, in ``COLUMNS`` order."""
    return (
        settlement_row_id,
        line.line_no,
        classify(line).value,
        line.transaction_type,
        line.amount_type,
        line.amount_description,
        line.amount.amount,
        line.amount.currency,
        line.order_id,
        line.merchant_order_id,
        line.adjustment_id,
        line.shipment_id,
        line.marketplace_name,
        line.fulfillment_id,
        line.posted_at,
        line.order_item_code,
        line.merchant_order_item_id,
        line.merchant_adjustment_item_id,
        line.sku,
        line.quantity,
        line.promotion_id,
    )


def copy_lines(conn: Connection, settlement_row_id: int, lines: Sequence[SettlementLine]) -> int:
    """The lines stored in ``conn``'s transaction, each once; how many were new."""
    if not lines:
        return 0
    raw = driver(conn)
    with raw.cursor() as cursor:
        cursor.execute(_CREATE_STAGING)
        with cursor.copy(_COPY) as copy:
            for line in lines:
                copy.write_row(row_of(settlement_row_id, line))
        cursor.execute(_MOVE)
        return max(cursor.rowcount, 0)


def insert_set_aside(conn: Connection, settlement_row_id: int, rows: Sequence[SetAsideLine]) -> int:
    """The rows set aside, each once; how many were new."""
    if not rows:
        return 0
    statement = (
        insert(A)
        .values(
            [
                {
                    "settlement_row_id": settlement_row_id,
                    "line_no": row.line_no,
                    "reason": row.reason,
                    "raw": row.raw,
                }
                for row in rows
            ]
        )
        .on_conflict_do_nothing(index_elements=[A.c.settlement_row_id, A.c.line_no])
    )
    return max(conn.execute(statement).rowcount, 0)
