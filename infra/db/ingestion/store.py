"""The ingestion side of the store: per-page upserts, set-aside orders, events, sync cursors.

A page is written in one transaction with a handful of statements whatever its size: lock the
page's existing rows, one multi-row upsert of the orders (written only when newer and different),
one of their items, one append of their outbox events, the set-aside rows and the cursor.
Before it, each order is checked against its columns (``fit``): one the store cannot hold is
set aside with the reason rather than failing the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import (
    Connection,
    Engine,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session, sessionmaker

from domain.ingestion import Cursor, FetchedOrder, PageOutcome
from domain.orders import AmazonOrder
from domain.orders.events import OrderEvent, order_event
from infra.db import outbox, sightings
from infra.db.engine import advisory_lock
from infra.db.ingestion.fit import SUM_PAST_DECIMAL, rows_misfit, text_length
from infra.db.ingestion.rows import OrderRows, as_json, order_rows
from infra.db.jsonb import storable, storable_text
from infra.db.outbox import EventEncoder
from infra.db.sql.compiled import Compiled
from infra.db.sql.ingestion import (
    DELETE_REPORT_ITEMS,
    ITEM_TYPES,
    ORDER_TYPES,
    UPSERT_ITEMS,
    UPSERT_ORDERS,
    columns,
)
from infra.db.tables import Order, SetAsideOrder, SyncCursor

# The stored status of the orders of a page, locked until the page's transaction ends.
_LOCK_PREVIOUS = Compiled(
    select(Order.amazon_order_id, Order.status, Order.detail)
    .where(
        Order.account_id == bindparam("p_account_id"),
        Order.amazon_order_id == any_(bindparam("p_ids", type_=ARRAY(String()))),
    )
    .with_for_update()
)


class SqlIngestionStore:
    """``domain.ingestion.IngestionStore`` on PostgreSQL."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        encode: EventEncoder,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.encode = encode

    @contextmanager
    def account_lock(self, account_id: int, scope: str) -> Iterator[bool]:
        """One sync per account and scope at a time (``engine.advisory_lock``)."""
        with advisory_lock(self.engine, f"sync:{account_id}:{scope}") as locked:
            yield locked

    def load_cursor(self, account_id: int, scope: str) -> Cursor:
        with self.sessions() as session:
            row = session.get(SyncCursor, (account_id, scope))
            if row is None:
                return Cursor()
            return Cursor(
                watermark=row.watermark,
                window_after=row.window_after,
                window_before=row.window_before,
                pagination_token=row.pagination_token,
                pages_done=row.pages_done,
                orders_seen=row.orders_seen,
            )

    def save_cursor(self, account_id: int, scope: str, cursor: Cursor) -> None:
        with self.sessions.begin() as session:
            self._write_cursor(session, account_id, scope, cursor)

    def save_page(
        self,
        account_id: int,
        scope: str,
        orders: list[AmazonOrder],
        set_aside: list[FetchedOrder],
        cursor: Cursor,
    ) -> PageOutcome:
        # One copy per order id: Amazon may repeat an order across a page boundary.
        latest: dict[str, AmazonOrder] = {}
        for order in orders:
            kept = latest.get(order.amazon_order_id)
            if kept is None or order.last_updated_at >= kept.last_updated_at:
                latest[order.amazon_order_id] = order
        fitting, misfits = _fit(account_id, latest.values())
        set_aside = [*set_aside, *misfits]
        with self.sessions.begin() as session:
            conn = session.connection()
            written = self._upsert(conn, account_id, fitting)
            # The gap audit's view of what the sync found, and the refreshes left to it.
            sightings.record_synced(
                conn,
                account_id,
                [(r.order.amazon_order_id, r.order.last_updated_at) for r in fitting],
            )
            if cursor.window_after is None and cursor.watermark is not None:
                sightings.settle_deferred(conn, account_id, cursor.watermark)
            resolved = [r.order.amazon_order_id for r in fitting]
            self._set_aside(session, account_id, set_aside, resolved=resolved)
            self._write_cursor(
                session, account_id, scope, cursor, final=cursor.window_after is None
            )
        created = sum(1 for previous, _ in written.values() if previous is None)
        return PageOutcome(
            created=created,
            updated=len(written) - created,
            unchanged=len(fitting) - len(written),
            set_aside=len(set_aside),
        )

    def upsert_orders(
        self, conn: Connection, account_id: int, orders: list[AmazonOrder]
    ) -> dict[str, tuple[str | None, int]]:
        """Write what is newer and different, in ``conn``'s transaction; returns
        {order id: (previous status, row id)}."""
        return self._upsert(conn, account_id, [order_rows(account_id, o) for o in orders])

    def _upsert(
        self, conn: Connection, account_id: int, orders: list[OrderRows]
    ) -> dict[str, tuple[str | None, int]]:
        if not orders:
            return {}
        ids = [o.order.amazon_order_id for o in orders]
        previous: dict[str, str] = {}
        from_report: set[str] = set()
        for amazon_order_id, status, detail in _LOCK_PREVIOUS.all(
            conn, {"p_account_id": account_id, "p_ids": ids}
        ):
            previous[amazon_order_id] = status
            if detail == "report":
                from_report.add(amazon_order_id)
        written: dict[str, tuple[str | None, int]] = {}
        versions: dict[str, int] = {}
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        # psycopg's own cursor on this transaction: the arrays go in binary, with no
        # per-element text escaping, which is most of the cost of a page.
        with driver.cursor() as cursor:
            cursor.execute(UPSERT_ORDERS, columns([o.row for o in orders], ORDER_TYPES))
            for row_id, amazon_order_id, version in cursor.fetchall():
                written[amazon_order_id] = (previous.get(amazon_order_id), row_id)
                versions[amazon_order_id] = version
            if not written:
                return written
            by_id = {o.order.amazon_order_id: o for o in orders}
            replaced = [row_id for oid, (_, row_id) in written.items() if oid in from_report]
            if replaced:
                cursor.execute(DELETE_REPORT_ITEMS, {"ids": replaced})
            items = []
            for amazon_order_id, (_, row_id) in written.items():
                for item in by_id[amazon_order_id].items:
                    item["order_id"] = row_id
                    items.append(item)
            cursor.execute(UPSERT_ITEMS, columns(items, ITEM_TYPES))
        events: list[OrderEvent] = [
            order_event(account_id, prev, by_id[oid].order, versions[oid])
            for oid, (prev, _) in written.items()
        ]
        outbox.append(conn, events, self.encode)
        return written

    def _set_aside(
        self, session: Session, account_id: int, odd: list[FetchedOrder], resolved: list[str]
    ) -> None:
        if resolved:
            session.execute(
                update(SetAsideOrder)
                .where(
                    SetAsideOrder.account_id == account_id,
                    SetAsideOrder.amazon_order_id.in_(resolved),
                    SetAsideOrder.resolved_at.is_(None),
                )
                .values(resolved_at=func.now())
            )
        if not odd:
            return
        # What Amazon sent may hold what no column holds (a NUL, a lone surrogate, an id
        # longer than any): the row keeps a copy the store takes.
        unique = {_set_aside_key(o.amazon_order_id): o for o in odd}
        stmt = insert(SetAsideOrder).values(
            [
                {
                    "account_id": account_id,
                    "amazon_order_id": key,
                    "reason": storable_text(o.problem or "unreadable"),
                    "raw": storable(o.raw),
                }
                for key, o in unique.items()
            ]
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[SetAsideOrder.account_id, SetAsideOrder.amazon_order_id],
                set_={
                    "reason": stmt.excluded.reason,
                    "raw": stmt.excluded.raw,
                    "times_seen": SetAsideOrder.times_seen + 1,
                    "last_seen_at": func.now(),
                    "resolved_at": None,
                },
            )
        )

    @staticmethod
    def _write_cursor(
        session: Session, account_id: int, scope: str, cursor: Cursor, final: bool = False
    ) -> None:
        values = {
            "watermark": cursor.watermark,
            "window_after": cursor.window_after,
            "window_before": cursor.window_before,
            "pagination_token": cursor.pagination_token,
            "pages_done": cursor.pages_done,
            "orders_seen": cursor.orders_seen,
            "updated_at": func.now(),
            "last_error": None,
        }
        if final:
            values["last_success_at"] = func.now()
        stmt = insert(SyncCursor).values(account_id=account_id, scope=scope, **values)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[SyncCursor.account_id, SyncCursor.scope],
                set_={k: literal_column(f"excluded.{k}") for k in values},
            )
        )


def _fit(
    account_id: int, orders: Iterable[AmazonOrder]
) -> tuple[list[OrderRows], list[FetchedOrder]]:
    """The orders that fit their columns, with their rows, and the others set aside with the
    reason; the raw JSON is no longer at hand here, so a set-aside copy keeps the rows as they
    would have been written."""
    fitting: list[OrderRows] = []
    misfits: list[FetchedOrder] = []
    for order in orders:
        try:
            rows = order_rows(account_id, order)
        except ArithmeticError:  # a sum of the lines' amounts past what a Decimal holds
            problem: str | None = SUM_PAST_DECIMAL
        else:
            problem = rows_misfit(rows)
        if problem is None:
            fitting.append(rows)
        else:
            misfits.append(
                FetchedOrder(order.amazon_order_id, as_json(account_id, order), problem=problem)
            )
    return fitting, misfits


_ID_LENGTH = text_length(SetAsideOrder.__table__, "amazon_order_id")


def _set_aside_key(amazon_order_id: str) -> str:
    """The order id as the set-aside row can hold it: escaped, and cut to the column."""
    key = storable_text(amazon_order_id)
    return key if len(key) <= _ID_LENGTH else key[: _ID_LENGTH - 3] + "..."


def from_report(engine: Engine, account_id: int, amazon_order_id: str) -> bool:
    """Whether the stored copy of the order came from an order report (its item ids made up)."""
    with engine.connect() as conn:
        detail = conn.execute(
            select(Order.detail).where(
                Order.account_id == account_id, Order.amazon_order_id == amazon_order_id
            )
        ).scalar_one_or_none()
    return detail == "report"
