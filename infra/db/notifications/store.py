"""``domain.notifications.NotificationStore`` on PostgreSQL: a notification taken in once (its
NotificationId's row and its effect in one transaction), and the order refreshes it asked for.

A refreshed order goes through the sync's own upsert (``SqlIngestionStore.upsert_orders``: the
same columns, versions, ``orders/*`` events and outbox), in the transaction that ends the
refresh, so an order read by both paths at once is one row and the same: the upsert locks the
order's row and writes only what is newer and different.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Connection, Engine, Interval, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

from domain.notifications import (
    ClaimedRefresh,
    Disposition,
    Effect,
    FetchPayouts,
    NoEffect,
    Notification,
    OrderChanged,
    RefreshOrder,
    TakenIn,
    WakeFeed,
)
from domain.orders import AmazonOrder
from infra.db import sightings
from infra.db.ingestion import SqlIngestionStore
from infra.db.ingestion.fit import order_misfit
from infra.db.outbox import EventEncoder
from infra.db.tables import (
    FeedSubmission,
    NotificationReceived,
    OrderRefresh,
    SellerAccount,
    reaches_amazon,
)

log = logging.getLogger(__name__)

N = NotificationReceived.metadata.tables[NotificationReceived.__tablename__]
R = OrderRefresh.metadata.tables[OrderRefresh.__tablename__]
A = SellerAccount.metadata.tables[SellerAccount.__tablename__]
F = FeedSubmission.metadata.tables[FeedSubmission.__tablename__]
_ERROR_LIMIT = 2000
# The submission state that waits on Amazon's processing (``domain.feeds.SubmissionState``).
_WAITING_ON_AMAZON = "created"


def _subject(notification: Notification) -> str:
    if isinstance(notification, OrderChanged):
        return notification.amazon_order_id
    if hasattr(notification, "amazon_feed_id"):
        return str(notification.amazon_feed_id)
    return str(getattr(notification, "amazon_report_id", ""))


class SqlNotificationStore:
    def __init__(self, engine: Engine, sessions: sessionmaker[Session], encode: EventEncoder):
        self.engine = engine
        self.orders = SqlIngestionStore(engine, sessions, encode)

    # -- taking a notification in ------------------------------------------------------------

    def take_in(self, notification: Notification, effect: Effect) -> TakenIn:
        with self.engine.begin() as conn:
            seller = getattr(effect, "seller_id", None)
            marketplace = getattr(notification, "marketplace_id", None)
            accounts = self._accounts_of(conn, seller, marketplace) if seller else []
            if isinstance(effect, RefreshOrder | FetchPayouts) and not accounts:
                return TakenIn(
                    Disposition.UNROUTED, reason=f"no connected account for seller {seller}"
                )
            first = conn.execute(
                insert(N)
                .values(
                    notification_id=notification.notification_id,
                    notification_type=notification.type.value,
                    account_id=accounts[0] if accounts else None,
                    subject=_subject(notification)[:100],
                    event_time=notification.event_time,
                )
                .on_conflict_do_nothing(index_elements=[N.c.notification_id])
                .returning(N.c.notification_id)
            ).first()
            if first is None:
                return TakenIn(Disposition.DUPLICATE)
            if isinstance(effect, RefreshOrder):
                refreshed = [a for a in accounts if self._request_refresh(conn, a, effect)]
                return TakenIn(Disposition.TAKEN, refresh_accounts=tuple(refreshed))
            if isinstance(effect, WakeFeed):
                woken = self._wake_feed(conn, effect, accounts)
                return TakenIn(Disposition.TAKEN, woken_submissions=woken)
            if isinstance(effect, FetchPayouts):
                return TakenIn(Disposition.TAKEN, payout_accounts=tuple(accounts))
            assert isinstance(effect, NoEffect)
            return TakenIn(Disposition.TAKEN, reason=effect.why)

    @staticmethod
    def _accounts_of(conn: Connection, seller_id: str, marketplace_id: str | None) -> list[int]:
        """The connected accounts of a seller; of those, the ones selling in the notification's
        marketplace when any does (one seller may be connected once per region)."""
        rows = conn.execute(
            select(A.c.id, A.c.marketplace_ids)
            .where(A.c.selling_partner_id == seller_id, reaches_amazon(A))
            .order_by(A.c.id)
        ).all()
        there = [
            r.id for r in rows if marketplace_id and marketplace_id in (r.marketplace_ids or [])
        ]
        return there or [r.id for r in rows]

    @staticmethod
    def _request_refresh(conn: Connection, account_id: int, effect: RefreshOrder) -> bool:
        """One refresh per order, the latest change wins. A change no later than one already
        announced asks nothing (a reordered delivery: the read it asked covers it)."""
        announced = sightings.record_notified(
            conn, account_id, effect.amazon_order_id, effect.changed_at
        )
        if announced is not None and effect.changed_at <= announced:
            return False
        stmt = insert(R).values(
            account_id=account_id,
            amazon_order_id=effect.amazon_order_id,
            changed_at=effect.changed_at,
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[R.c.account_id, R.c.amazon_order_id],
                set_={
                    "changed_at": func.greatest(R.c.changed_at, stmt.excluded.changed_at),
                    "version": R.c.version + 1,
                    "state": "pending",
                    "updated_at": func.now(),
                },
            )
        )
        return True

    @staticmethod
    def _wake_feed(conn: Connection, effect: WakeFeed, accounts: list[int]) -> tuple[int, ...]:
        """The submission waiting on this feed is due now; None of ours waits on it: nothing."""
        where = [F.c.amazon_feed_id == effect.amazon_feed_id, F.c.state == _WAITING_ON_AMAZON]
        if accounts:
            where.append(F.c.account_id.in_(accounts))
        woken = conn.execute(
            update(F).where(*where).values(next_attempt_at=func.now()).returning(F.c.id)
        ).scalars()
        return tuple(sorted(int(i) for i in woken))

    # -- refreshes ---------------------------------------------------------------------------

    def pending_refreshes(self, account_id: int) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(R)
                    .where(R.c.account_id == account_id, R.c.state == "pending")
                ).scalar_one()
            )

    def defer_refreshes(self, account_id: int) -> int:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(R)
                .where(
                    R.c.account_id == account_id,
                    R.c.state == "pending",
                    (R.c.lease_until.is_(None)) | (R.c.lease_until < func.now()),
                )
                .values(state="deferred", lease_until=None, updated_at=func.now())
            )
        deferred = int(done.rowcount or 0)
        if deferred:
            log.info(
                "order refreshes left to the next sync window",
                extra={"account_id": account_id, "deferred": deferred},
            )
        return deferred

    def claim_refresh(self, account_id: int, lease: timedelta) -> ClaimedRefresh | None:
        free = (
            select(R.c.account_id, R.c.amazon_order_id)
            .where(
                R.c.account_id == account_id,
                R.c.state == "pending",
                (R.c.lease_until.is_(None)) | (R.c.lease_until < func.now()),
            )
            .order_by(R.c.changed_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .cte("free")
        )
        with self.engine.begin() as conn:
            row = conn.execute(
                update(R)
                .where(
                    R.c.account_id == free.c.account_id,
                    R.c.amazon_order_id == free.c.amazon_order_id,
                )
                .values(
                    lease_until=func.now() + bindparam("p_lease", lease, type_=Interval()),
                    attempts=R.c.attempts + 1,
                    updated_at=func.now(),
                )
                .returning(R.c.amazon_order_id, R.c.version)
            ).first()
        if row is None:
            return None
        return ClaimedRefresh(account_id, row.amazon_order_id, int(row.version))

    def release_refresh(self, claim: ClaimedRefresh, error: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(R)
                .where(*_key(claim))
                .values(
                    lease_until=None,
                    last_error=error[:_ERROR_LIMIT] if error else None,
                    updated_at=func.now(),
                )
            )

    def drop_refresh(self, claim: ClaimedRefresh, reason: str) -> None:
        with self.engine.begin() as conn:
            self._finish(conn, claim, error=reason)
        log.warning(
            "order refresh dropped; the sync reads the order",
            extra={"account_id": claim.account_id, "reason": reason[:500]},
        )

    def store_refreshed(self, claim: ClaimedRefresh, order: AmazonOrder) -> bool:
        problem = order_misfit(claim.account_id, order)
        if problem is not None:
            self.drop_refresh(claim, problem)
            return False
        with self.engine.begin() as conn:
            written = self.orders.upsert_orders(conn, claim.account_id, [order])
            self._finish(conn, claim)
        return bool(written)

    @staticmethod
    def _finish(conn: Connection, claim: ClaimedRefresh, error: str | None = None) -> None:
        """Done, unless a newer notification came while it was read: then pending again."""
        gone = conn.execute(delete(R).where(*_key(claim), R.c.version == claim.version))
        if not gone.rowcount:
            conn.execute(
                update(R)
                .where(*_key(claim))
                .values(
                    lease_until=None,
                    last_error=error[:_ERROR_LIMIT] if error else None,
                    updated_at=func.now(),
                )
            )


def _key(claim: ClaimedRefresh) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (R.c.account_id == claim.account_id, R.c.amazon_order_id == claim.amazon_order_id)
