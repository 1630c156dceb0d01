"""The notification side's read models: the gap audit, each account's last notification (for
the sync's schedule), the accounts with refreshes to drain, and the purge of what is past its
retention.

The gap audit compares, per order, the latest change each path saw (``order_sightings``):

- **sync only**: the sync found a change (Amazon's ``lastUpdatedTime``) later than any change a
  notification announced for the order, by more than ``GAP_MARGIN`` (Amazon's clocks for the
  two differ by a little). Only changes after the account's first notification count: before
  it, nothing could have been announced.
- **notification only**: a notification announced a change the sync never found, though a sync
  window has closed past it (the account's watermark is later, by more than the margin).

Both are counts over the rows kept (``RETENTION``), so they fall back as rows age out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, Interval, bindparam, delete, func, or_, select

from infra.db.tables import (
    NotificationReceived,
    OrderRefresh,
    OrderSighting,
    SellerAccount,
    SyncCursor,
)

# Longer than SQS keeps a message (14 days at most): a redelivered duplicate is always known.
RETENTION = timedelta(days=15)
GAP_MARGIN = timedelta(seconds=60)
SYNC_SCOPE = "orders"

N = NotificationReceived.metadata.tables[NotificationReceived.__tablename__]
R = OrderRefresh.metadata.tables[OrderRefresh.__tablename__]
S = OrderSighting.metadata.tables[OrderSighting.__tablename__]
A = SellerAccount.metadata.tables[SellerAccount.__tablename__]
C = SyncCursor.metadata.tables[SyncCursor.__tablename__]


@dataclass(frozen=True, slots=True)
class AccountNotifications:
    """One account's notification side, for the status screen and the metrics."""

    account_id: int
    account: str
    last_received_at: datetime | None
    pending_refreshes: int
    deferred_refreshes: int
    sync_only: int  # orders the sync found that no notification announced
    notification_only: int  # notifications for orders the sync never found


def _margin() -> object:
    return bindparam("p_margin", GAP_MARGIN, type_=Interval())


def account_notifications(conn: Connection) -> list[AccountNotifications]:
    """Every account not removed, with its counts (0 when it has none)."""
    first = (
        select(
            N.c.account_id,
            func.min(N.c.received_at).label("first"),
            func.max(N.c.received_at).label("last"),
        )
        .group_by(N.c.account_id)
        .subquery()
    )
    watermark = select(C.c.account_id, C.c.watermark).where(C.c.scope == SYNC_SCOPE).subquery()
    margin = _margin()
    sync_only = (
        select(S.c.account_id, func.count().label("n"))
        .join(first, first.c.account_id == S.c.account_id)
        .where(
            S.c.synced_change_at.is_not(None),
            S.c.synced_change_at >= first.c.first,
            or_(
                S.c.notified_change_at.is_(None),
                S.c.synced_change_at > S.c.notified_change_at + margin,
            ),
        )
        .group_by(S.c.account_id)
        .subquery()
    )
    notification_only = (
        select(S.c.account_id, func.count().label("n"))
        .join(watermark, watermark.c.account_id == S.c.account_id)
        .where(
            S.c.notified_change_at.is_not(None),
            S.c.notified_change_at < watermark.c.watermark - margin,
            or_(
                S.c.synced_change_at.is_(None),
                S.c.notified_change_at > S.c.synced_change_at + margin,
            ),
        )
        .group_by(S.c.account_id)
        .subquery()
    )
    refreshes = (
        select(
            R.c.account_id,
            func.count().filter(R.c.state == "pending").label("pending"),
            func.count().filter(R.c.state == "deferred").label("deferred"),
        )
        .group_by(R.c.account_id)
        .subquery()
    )
    query = (
        select(
            A.c.id,
            A.c.name,
            first.c.last,
            func.coalesce(refreshes.c.pending, 0),
            func.coalesce(refreshes.c.deferred, 0),
            func.coalesce(sync_only.c.n, 0),
            func.coalesce(notification_only.c.n, 0),
        )
        .outerjoin(first, first.c.account_id == A.c.id)
        .outerjoin(refreshes, refreshes.c.account_id == A.c.id)
        .outerjoin(sync_only, sync_only.c.account_id == A.c.id)
        .outerjoin(notification_only, notification_only.c.account_id == A.c.id)
        .where(A.c.removed_at.is_(None))
        .order_by(A.c.id)
    )
    return [
        AccountNotifications(int(r[0]), str(r[1]), r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6]))
        for r in conn.execute(query)
    ]


def last_received(engine: Engine, account_ids: Sequence[int]) -> dict[int, tuple[datetime, int]]:
    """Each account's latest notification and its deferred refreshes (accounts with neither
    are absent): what ``domain.notifications.healthy`` reads."""
    if not account_ids:
        return {}
    ids = list(account_ids)
    with engine.connect() as conn:
        latest: dict[int, datetime] = dict(
            conn.execute(
                select(N.c.account_id, func.max(N.c.received_at))
                .where(N.c.account_id.in_(ids))
                .group_by(N.c.account_id)
            ).all()
        )
        deferred: dict[int, int] = dict(
            conn.execute(
                select(R.c.account_id, func.count())
                .where(R.c.account_id.in_(ids), R.c.state == "deferred")
                .group_by(R.c.account_id)
            ).all()
        )
    return {int(a): (at, int(deferred.get(a, 0))) for a, at in latest.items()}


def accounts_with_refreshes(engine: Engine) -> list[int]:
    """Accounts with a pending refresh nobody holds (the sweep queues a drain for each)."""
    with engine.connect() as conn:
        return [
            int(a)
            for a in conn.execute(
                select(R.c.account_id)
                .where(
                    R.c.state == "pending",
                    or_(R.c.lease_until.is_(None), R.c.lease_until < func.now()),
                )
                .group_by(R.c.account_id)
                .order_by(R.c.account_id)
            ).scalars()
        ]


def purge(engine: Engine, retention: timedelta = RETENTION) -> int:
    """Notifications and sightings past ``retention``; how many rows went."""
    keep = bindparam("p_keep", retention, type_=Interval())
    with engine.begin() as conn:
        gone = conn.execute(delete(N).where(N.c.received_at < func.now() - keep)).rowcount or 0
        gone += conn.execute(delete(S).where(S.c.seen_at < func.now() - keep)).rowcount or 0
    return int(gone)


__all__ = [
    "GAP_MARGIN",
    "RETENTION",
    "AccountNotifications",
    "account_notifications",
    "accounts_with_refreshes",
    "last_received",
    "purge",
]
