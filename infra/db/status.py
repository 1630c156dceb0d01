"""What ``amazon-channel status`` reads from the store: each account's sync watermark and last
success, the failures waiting for a person, the feeds in flight and the outbox's backlog.

Read-only and cheap (counts over indexed columns), so a probe can run it every minute. The
dead-letter table is read only when it exists (it comes with its own migration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    MetaData,
    Select,
    Table,
    func,
    inspect,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from infra.db.accounts import list_accounts
from infra.db.notifications import AccountNotifications, account_notifications
from infra.db.tables import (
    FeedSubmission,
    Fulfilment,
    OutboxEvent,
    Refund,
    SellerAccount,
    SyncCursor,
    WebhookDelivery,
)

DEAD_LETTERS = "dead_letters"
# A feed submission in one of these has had its report applied or is settled for good.
_FEED_SETTLED = ("done", "fatal", "not_created")
# A dead letter in one of these (or with one of these times set) is dealt with.
_DEALT_WITH_STATES = ("retried", "discarded", "resolved", "done")
_DEALT_WITH_TIMES = ("retried_at", "discarded_at", "resolved_at")


@dataclass(frozen=True, slots=True)
class AccountSync:
    id: int
    name: str
    status: str  # AccountView.status: active, disabled, paused: <reason>, disconnected
    reaches_amazon: bool
    created_at: datetime
    watermark: datetime | None
    last_success_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Backlog:
    count: int
    oldest_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoreStatus:
    accounts: list[AccountSync]
    failed_fulfilments: int
    failed_refunds: int
    dead_deliveries: int
    dead_letters: int | None  # None: the table does not exist (yet)
    feeds_in_flight: Backlog
    undispatched_events: Backlog  # not yet fanned out to the subscribers
    undelivered_events: Backlog  # fanned out, a delivery still pending (by event time)
    # Per account: the last notification, refreshes waiting, and the gap audit's counts.
    notifications: list[AccountNotifications] = field(default_factory=list)


def store_status(engine: Engine, sessions: sessionmaker[Session]) -> StoreStatus:
    accounts = list_accounts(sessions)
    with engine.connect() as conn:
        created = dict(conn.execute(select(SellerAccount.id, SellerAccount.created_at)).all())
        cursors = {
            row.account_id: row
            for row in conn.execute(
                select(
                    SyncCursor.account_id,
                    SyncCursor.watermark,
                    SyncCursor.last_success_at,
                    SyncCursor.last_error,
                ).where(SyncCursor.scope == "orders")
            )
        }
        syncs = [
            AccountSync(
                id=a.id,
                name=a.name,
                status=a.status,
                reaches_amazon=a.reaches_amazon,
                created_at=created[a.id],
                watermark=cursors[a.id].watermark if a.id in cursors else None,
                last_success_at=cursors[a.id].last_success_at if a.id in cursors else None,
                last_error=cursors[a.id].last_error if a.id in cursors else None,
            )
            for a in accounts
        ]
        return StoreStatus(
            accounts=syncs,
            failed_fulfilments=_count(conn, Fulfilment.__table__, Fulfilment.state == "failed"),
            failed_refunds=_count(conn, Refund.__table__, Refund.state == "failed"),
            dead_deliveries=_count(
                conn, WebhookDelivery.__table__, WebhookDelivery.state == "dead"
            ),
            dead_letters=_dead_letters(conn),
            feeds_in_flight=_backlog(
                conn,
                select(func.count(), func.min(FeedSubmission.created_at)).where(
                    FeedSubmission.state.not_in(_FEED_SETTLED)
                ),
            ),
            undispatched_events=_backlog(
                conn,
                select(func.count(), func.min(OutboxEvent.created_at)).where(
                    OutboxEvent.dispatched_at.is_(None)
                ),
            ),
            undelivered_events=_backlog(
                conn,
                select(func.count(func.distinct(OutboxEvent.id)), func.min(OutboxEvent.created_at))
                .join(WebhookDelivery, WebhookDelivery.event_id == OutboxEvent.id)
                .where(WebhookDelivery.state.in_(("pending", "sending"))),
            ),
            notifications=account_notifications(conn),
        )


def _count(conn: Connection, table: FromClause, *where: ColumnElement[bool]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _backlog(conn: Connection, query: Select[int, datetime]) -> Backlog:
    count, oldest = conn.execute(query).one()
    return Backlog(int(count), oldest)


def _dead_letters(conn: Connection) -> int | None:
    """Dead letters not yet retried or discarded, when the table exists."""
    if not inspect(conn).has_table(DEAD_LETTERS):
        return None
    table = Table(DEAD_LETTERS, MetaData(), autoload_with=conn)
    where: list[ColumnElement[bool]] = []
    if "state" in table.c:
        where.append(table.c.state.not_in(_DEALT_WITH_STATES))
    where.extend(table.c[name].is_(None) for name in _DEALT_WITH_TIMES if name in table.c)
    return _count(conn, table, *where)
