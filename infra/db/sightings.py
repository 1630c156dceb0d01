"""What each path saw of an order, for the gap audit (``infra.db.notifications.audit``): the
sync's page writes its orders' ``lastUpdatedTime`` here, a notification its change time; and a
sync window that closes settles the refreshes that were left to it (``order_refreshes`` in state
``deferred``). Statements on the caller's connection, inside its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.postgresql import insert

from infra.db.tables import OrderRefresh, OrderSighting

S = OrderSighting.metadata.tables[OrderSighting.__tablename__]


def record_synced(
    conn: Connection, account_id: int, orders: Sequence[tuple[str, datetime]]
) -> None:
    """The sync found these orders (id, Amazon's ``lastUpdatedTime``), changed or not."""
    latest: dict[str, datetime] = {}
    for amazon_order_id, updated_at in orders:
        if amazon_order_id not in latest or updated_at > latest[amazon_order_id]:
            latest[amazon_order_id] = updated_at
    if not latest:
        return
    stmt = insert(S).values(
        [
            {
                "account_id": account_id,
                "amazon_order_id": order_id,
                "synced_change_at": updated_at,
                "synced_at": func.now(),
            }
            for order_id, updated_at in sorted(latest.items())  # one lock order for every page
        ]
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[S.c.account_id, S.c.amazon_order_id],
            set_={
                "synced_change_at": func.greatest(
                    S.c.synced_change_at, stmt.excluded.synced_change_at
                ),
                "synced_at": func.now(),
                "seen_at": func.now(),
            },
        )
    )


def record_notified(
    conn: Connection, account_id: int, amazon_order_id: str, changed_at: datetime
) -> datetime | None:
    """A notification announced a change of the order at ``changed_at``; returns the latest
    change announced before it (None: none), read under the row's lock."""
    previous = conn.execute(
        select(S.c.notified_change_at)
        .where(S.c.account_id == account_id, S.c.amazon_order_id == amazon_order_id)
        .with_for_update()
    ).scalar_one_or_none()
    stmt = insert(S).values(
        account_id=account_id,
        amazon_order_id=amazon_order_id,
        notified_change_at=changed_at,
        notified_at=func.now(),
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[S.c.account_id, S.c.amazon_order_id],
            set_={
                "notified_change_at": func.greatest(
                    S.c.notified_change_at, stmt.excluded.notified_change_at
                ),
                "notified_at": func.now(),
                "seen_at": func.now(),
            },
        )
    )
    return previous


def settle_deferred(conn: Connection, account_id: int, window_before: datetime) -> int:
    """A sync window closed at ``window_before`` (Amazon's clock): every deferred refresh of a
    change before it is covered by that window (or an earlier one) and goes."""
    R = OrderRefresh.metadata.tables[OrderRefresh.__tablename__]
    done = conn.execute(
        delete(R).where(
            R.c.account_id == account_id,
            R.c.state == "deferred",
            R.c.changed_at < window_before,
        )
    )
    return int(done.rowcount or 0)
