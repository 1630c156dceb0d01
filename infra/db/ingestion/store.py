"""The ingestion side of the store: per-page upserts, set-aside orders, events, sync cursors.

A page is written in one transaction with a handful of statements whatever its size: lock the
page's existing rows, one multi-row upsert of the orders (written only when newer and different),
one of their items, one insert of their outbox events, the set-aside rows and the cursor.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
from domain.orders import AmazonOrder, event_topic, order_total
from infra.db.compiled import Compiled
from infra.db.engine import advisory_lock
from infra.db.tables import Order, SetAsideOrder, SyncCursor

# Each page is written with a few constant statements over arrays (``unnest``): the SQL text
# never changes with the page size, so nothing is recompiled per page and PostgreSQL plans once.
_ORDER_TYPES: dict[str, str] = {
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
}
_ITEM_TYPES: dict[str, str] = {
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
}
_EVENT_TYPES: dict[str, str] = {
    "event_id": "uuid",
    "topic": "text",
    "aggregate_key": "text",
    "payload": "jsonb",
}


# An upsert rewrites every column but the conflict key.
_ORDER_UPDATE_COLUMNS = tuple(c for c in _ORDER_TYPES if c not in ("account_id", "amazon_order_id"))
_ITEM_UPDATE_COLUMNS = tuple(c for c in _ITEM_TYPES if c not in ("order_id", "order_item_id"))


def _unnest(types: dict[str, str]) -> str:
    casts = ", ".join(f"CAST(%({c})b AS {t}[])" for c, t in types.items())
    return f"SELECT * FROM unnest({casts})"


def _driver_cursor(conn: Connection) -> psycopg.Cursor[Any]:
    """psycopg's own cursor on the connection and its transaction: arrays are sent in
    binary (no per-element text escaping), which is most of the cost of a page."""
    connection = conn.connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    return connection.cursor()


def _columns(rows: list[dict[str, Any]], types: dict[str, str]) -> dict[str, list[Any]]:
    return {c: [row[c] for row in rows] for c in types}


_UPSERT_ORDERS = (
    f"INSERT INTO orders ({', '.join(_ORDER_TYPES)}) {_unnest(_ORDER_TYPES)} "
    "ON CONFLICT (account_id, amazon_order_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _ORDER_UPDATE_COLUMNS)
    + ", version = orders.version + 1, updated_at = now() "
    # The rule of ``domain.orders.event_topic``: only a newer copy that differs is written.
    "WHERE orders.amazon_updated_at <= excluded.amazon_updated_at "
    "AND orders.content_hash <> excluded.content_hash "
    "RETURNING id, amazon_order_id, version"
)
_UPSERT_ITEMS = (
    f"INSERT INTO order_items ({', '.join(_ITEM_TYPES)}) {_unnest(_ITEM_TYPES)} "
    "ON CONFLICT (order_id, order_item_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _ITEM_UPDATE_COLUMNS)
)
_INSERT_EVENTS = (
    f"INSERT INTO outbox_events ({', '.join(_EVENT_TYPES)}) "
    "SELECT event_id, topic, aggregate_key, CAST(payload AS jsonb) FROM unnest("
    "CAST(%(event_id)b AS uuid[]), CAST(%(topic)b AS text[]),"
    " CAST(%(aggregate_key)b AS text[]), CAST(%(payload)b AS text[])"
    ") AS e(event_id, topic, aggregate_key, payload)"
)


# The stored status of the orders of a page, locked until the page's transaction ends.
_LOCK_PREVIOUS = Compiled(
    select(Order.amazon_order_id, Order.status)
    .where(
        Order.account_id == bindparam("p_account_id"),
        Order.amazon_order_id == any_(bindparam("p_ids", type_=ARRAY(String()))),
    )
    .with_for_update()
)


def aggregate_key(account_id: int, amazon_order_id: str) -> str:
    return f"order:{account_id}:{amazon_order_id}"


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
    }


def event_payload(account_id: int, order: AmazonOrder, version: int) -> dict[str, Any]:
    """What the platform receives about an order. No buyer data: we never store any."""
    total = order_total(order)

    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "account_id": account_id,
        "channel": "amazon",
        # Rule 4: Amazon notifies the buyer; the platform must not.
        "buyer_notified_by": "amazon",
        "amazon_order_id": order.amazon_order_id,
        "marketplace_id": order.marketplace_id,
        "status": order.status.value,
        "fulfilled_by": order.fulfilled_by.value,
        "read_only": order.read_only,
        "currency": order.currency,
        "total": str(total.amount) if total is not None else None,
        "purchased_at": when(order.purchased_at),
        "amazon_updated_at": when(order.last_updated_at),
        "ship_by": {"earliest": when(order.ship_by_earliest), "latest": when(order.ship_by_latest)},
        "deliver_by": {
            "earliest": when(order.deliver_by_earliest),
            "latest": when(order.deliver_by_latest),
        },
        "is_business": order.is_business,
        "is_prime": order.is_prime,
        "is_replacement": order.is_replacement,
        "replaced_order_id": order.replaced_order_id,
        "buyer_cancel_requested": order.buyer_cancel_requested,
        "buyer_cancel_reason": order.buyer_cancel_reason,
        "version": version,
        "lines": [
            {
                "order_item_id": line.order_item_id,
                "sku": line.sku,
                "asin": line.asin,
                "quantity_ordered": line.quantity_ordered,
                "quantity_shipped": line.quantity_shipped,
                "unit_price": str(line.unit_price.amount) if line.unit_price else None,
                "cancel_requested": line.cancel_requested,
            }
            for line in order.lines
        ],
    }


class SqlIngestionStore:
    """``domain.ingestion.IngestionStore`` on PostgreSQL."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.engine = engine
        self.sessions = sessions

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
        with self.sessions.begin() as session:
            written = self.upsert_orders(session.connection(), account_id, list(latest.values()))
            self._set_aside(session, account_id, set_aside, resolved=list(latest))
            self._write_cursor(
                session, account_id, scope, cursor, final=cursor.window_after is None
            )
        created = sum(1 for previous, _ in written.values() if previous is None)
        return PageOutcome(
            created=created,
            updated=len(written) - created,
            unchanged=len(latest) - len(written),
            set_aside=len(set_aside),
        )

    def upsert_orders(
        self, conn: Connection, account_id: int, orders: list[AmazonOrder]
    ) -> dict[str, tuple[str | None, int]]:
        """Write what is newer and different, in ``conn``'s transaction; returns
        {order id: (previous status, row id)}."""
        if not orders:
            return {}
        ids = [o.amazon_order_id for o in orders]
        previous: dict[str, str] = {
            amazon_order_id: status
            for amazon_order_id, status in _LOCK_PREVIOUS.all(
                conn, {"p_account_id": account_id, "p_ids": ids}
            )
        }
        rows = [order_row(account_id, o, o.content_hash()) for o in orders]
        written: dict[str, tuple[str | None, int]] = {}
        versions: dict[str, int] = {}
        cursor = _driver_cursor(conn)
        cursor.execute(_UPSERT_ORDERS, _columns(rows, _ORDER_TYPES))
        for row_id, amazon_order_id, version in cursor.fetchall():
            written[amazon_order_id] = (previous.get(amazon_order_id), row_id)
            versions[amazon_order_id] = version
        if not written:
            return written
        by_id = {o.amazon_order_id: o for o in orders}
        item_rows = [
            {
                "order_id": row_id,
                "order_item_id": line.order_item_id,
                "sku": line.sku,
                "asin": line.asin,
                "title": line.title,
                "quantity_ordered": line.quantity_ordered,
                "quantity_shipped": line.quantity_shipped,
                "currency": line.unit_price.currency if line.unit_price else None,
                "unit_price": line.unit_price.amount if line.unit_price else None,
                "cancel_requested": line.cancel_requested,
                "cancel_reason": line.cancel_reason,
            }
            for amazon_order_id, (_, row_id) in written.items()
            for line in by_id[amazon_order_id].lines
        ]
        cursor.execute(_UPSERT_ITEMS, _columns(item_rows, _ITEM_TYPES))
        events = [
            {
                "event_id": str(uuid.uuid4()),
                "topic": event_topic(prev, by_id[oid]).value,
                "aggregate_key": aggregate_key(account_id, oid),
                "payload": json.dumps(event_payload(account_id, by_id[oid], versions[oid])),
            }
            for oid, (prev, _) in written.items()
        ]
        cursor.execute(_INSERT_EVENTS, _columns(events, _EVENT_TYPES))
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
        unique = {o.amazon_order_id: o for o in odd}
        stmt = insert(SetAsideOrder).values(
            [
                {
                    "account_id": account_id,
                    "amazon_order_id": o.amazon_order_id,
                    "reason": o.problem or "unreadable",
                    "raw": o.raw,
                }
                for o in unique.values()
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
