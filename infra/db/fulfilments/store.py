"""The fulfilment side of the store: intake under the order's lock, leases, outcomes with their
events, the sweeper's pick, ship-by alerts, and the API's idempotency keys.

Every state change is a single conditional UPDATE (``WHERE state = ... AND lease_owner = ...``),
so two workers, a duplicated message or a late beat tick can never both win; the outbox event of
a change is written in the change's transaction. Times of leases and due dates come from
PostgreSQL's ``now()`` (one clock for every worker).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Engine,
    Integer,
    Interval,
    Row,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session, sessionmaker

from domain.fulfilments import (
    DEADLINE_TOPICS,
    DeadlineAlert,
    Fulfilment,
    FulfilmentState,
    ItemSnapshot,
    NewFulfilment,
    OpenOrder,
    OrderSnapshot,
    PackageLine,
    PendingReadBack,
    ReadBack,
    Rejected,
    Topic,
)
from domain.orders import AmazonOrder, FulfilledBy, OrderProblem, OrderStatus, check_order
from infra.db.compiled import Compiled
from infra.db.engine import advisory_lock
from infra.db.ingestion import SqlIngestionStore, aggregate_key
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.db.tables import (
    FulfilmentLine,
    IdempotencyKey,
    Order,
    OrderItem,
    OutboxEvent,
    RejectedFulfilment,
    SellerAccount,
    ShipByAlert,
)

log = logging.getLogger(__name__)

_OPEN = (OrderStatus.UNSHIPPED.value, OrderStatus.PARTIALLY_SHIPPED.value)
_IN_FLIGHT = (FulfilmentState.ACCEPTED.value, FulfilmentState.SENDING.value)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _seconds(value: timedelta) -> Any:
    return func.make_interval(0, 0, 0, 0, 0, 0, value.total_seconds())


def fulfilment_payload(fulfilment: Fulfilment) -> dict[str, Any]:
    """What the platform receives about a fulfilment. Rule 4: Amazon notifies the buyer."""
    return {
        "account_id": fulfilment.account_id,
        "channel": "amazon",
        "buyer_notified_by": "amazon",
        "fulfilment_id": fulfilment.id,
        "platform_fulfilment_id": fulfilment.platform_fulfilment_id,
        "amazon_order_id": fulfilment.amazon_order_id,
        "package_reference_id": fulfilment.package_reference_id,
        "state": fulfilment.state.value,
        "shipped_at": _iso(fulfilment.shipped_at),
        "carrier_code": fulfilment.carrier_code,
        "carrier_name": fulfilment.carrier_name,
        "shipping_method": fulfilment.shipping_method,
        "tracking_number": fulfilment.tracking_number,
        "lines": [
            {"order_item_id": line.order_item_id, "sku": line.sku, "quantity": line.quantity}
            for line in fulfilment.lines
        ],
    }


def _amazon_view(row: FulfilmentRow) -> str | None:
    """For operators: what the read-back after the confirmation found, or that it is pending."""
    if row.read_back_due_at is not None:
        return f"read-back pending, next try {row.read_back_due_at:%H:%M:%S} UTC"
    if row.amazon_checked_at is not None:
        return f"order {row.amazon_order_status}, package {row.amazon_package_status or 'unlisted'}"
    return None


def _read_back_payload(read_back: ReadBack) -> dict[str, Any]:
    order = read_back.order
    return {
        "order_status": order.status.value if order is not None else None,
        "package_status": read_back.package_status,
        "package_listed": read_back.package_listed,
        "read_error": read_back.error,
        # Not read yet (the seller's getOrder budget was spent): read shortly, the order then
        # comes as ``orders/updated``.
        "read_deferred": read_back.deferred,
        "items": [
            {
                "order_item_id": line.order_item_id,
                "quantity_ordered": line.quantity_ordered,
                "quantity_shipped": line.quantity_shipped,
            }
            for line in (order.lines if order is not None else ())
        ],
    }


def request_hash(request: Mapping[str, Any]) -> str:
    encoded = json.dumps(request, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


# --- statements ---------------------------------------------------------------------------------
# The hot paths (intake, claim, confirmation) run statements written once here with SQLAlchemy
# Core and bound parameters, compiled at import and executed on psycopg's cursor in the caller's
# transaction (``infra.db.compiled``). Building an ORM statement per call, or even running a
# prebuilt one through SQLAlchemy's execution layer, cost more CPU than PostgreSQL spent on it.
# The rare paths (reopen, rejections, the sweeper, listings) keep the ORM.

_TABLES = FulfilmentRow.metadata.tables
_F = _TABLES[FulfilmentRow.__tablename__]
_L = _TABLES[FulfilmentLine.__tablename__]
_O = _TABLES[Order.__tablename__]
_I = _TABLES[OrderItem.__tablename__]
_A = _TABLES[SellerAccount.__tablename__]
_E = _TABLES[OutboxEvent.__tablename__]
_K = _TABLES[IdempotencyKey.__tablename__]


def _later(name: str) -> Any:
    """now() plus an interval given as a timedelta parameter."""
    return func.now() + bindparam(name, type_=Interval())


def _line_columns(lines: Any) -> list[Any]:
    """A line's columns (of the table or a CTE) as ``_fulfilments`` reads them."""
    return [
        lines.c.id.label("line_id"),
        lines.c.order_item_id.label("line_order_item_id"),
        lines.c.quantity.label("line_quantity"),
        lines.c.sku.label("line_sku"),
    ]


def _with_lines(fulfilments: Any) -> Select[Any]:
    """Fulfilments (a table or a CTE) with their order's fields and their lines: one row per
    line (outer join), in (fulfilment id, line id) order."""
    return (
        select(
            fulfilments,
            _O.c.marketplace_id.label("order_marketplace_id"),
            _O.c.ship_by_latest.label("order_ship_by_latest"),
            *_line_columns(_L),
        )
        .join_from(fulfilments, _O, _O.c.id == fulfilments.c.order_id)
        .outerjoin(_L, _L.c.fulfilment_id == fulfilments.c.id)
        .order_by(fulfilments.c.id, _L.c.id)
    )


_LOAD_BY_ID = Compiled(_with_lines(_F).where(_F.c.id == bindparam("p_id")))
_LOAD_BY_PLATFORM_ID = Compiled(
    _with_lines(_F).where(
        _F.c.account_id == bindparam("p_account_id"),
        _F.c.platform_fulfilment_id == bindparam("p_platform_fulfilment_id"),
    )
)
_ACCOUNT_BY_ID = Compiled(select(_A.c.id).where(_A.c.id == bindparam("p_id")))
_ACCOUNT_BY_NAME = Compiled(select(_A.c.id).where(_A.c.name == bindparam("p_name")))
_LOCK_ORDER = Compiled(
    select(
        _O.c.id,
        _O.c.account_id,
        _O.c.amazon_order_id,
        _O.c.marketplace_id,
        _O.c.status,
        _O.c.fulfilled_by,
        _O.c.purchased_at,
        _O.c.ship_by_latest,
        _O.c.buyer_cancel_requested,
        _O.c.buyer_cancel_reason,
    )
    .where(
        _O.c.account_id == bindparam("p_account_id"),
        _O.c.amazon_order_id == bindparam("p_amazon_order_id"),
    )
    .with_for_update()
)
# Each order's items with Amazon's shipped count and ours: confirmed, and in flight. A statement
# of its own after ``_LOCK_ORDER``: a statement that waited for the order's lock still reads with
# the snapshot it started with, and would miss a fulfilment committed while it waited.
_ITEMS = Compiled(
    select(
        _I.c.order_id,
        _I.c.order_item_id,
        _I.c.sku,
        _I.c.quantity_ordered,
        _I.c.quantity_shipped,
        _I.c.cancel_requested,
        func.coalesce(
            func.sum(_L.c.quantity).filter(_F.c.state == FulfilmentState.CONFIRMED.value), 0
        ).label("confirmed"),
        # (the states spelled out: an IN list would be expanded at every execution)
        func.coalesce(
            func.sum(_L.c.quantity).filter(or_(*(_F.c.state == state for state in _IN_FLIGHT))),
            0,
        ).label("pending"),
    )
    .select_from(
        _I.outerjoin(
            _F,
            and_(_F.c.order_id == _I.c.order_id, _F.c.state != FulfilmentState.FAILED.value),
        ).outerjoin(
            _L, and_(_L.c.fulfilment_id == _F.c.id, _L.c.order_item_id == _I.c.order_item_id)
        )
    )
    .where(_I.c.order_id == any_(bindparam("p_order_ids", type_=ARRAY(BigInteger()))))
    .group_by(_I.c.id)
    .order_by(_I.c.id)
)
_added = (
    insert(_F)
    .values(
        account_id=bindparam("p_account_id"),
        order_id=bindparam("p_order_id"),
        amazon_order_id=bindparam("p_amazon_order_id"),
        platform_fulfilment_id=bindparam("p_platform_fulfilment_id"),
        fingerprint=bindparam("p_fingerprint"),
        state=FulfilmentState.ACCEPTED.value,
        shipped_at=bindparam("p_shipped_at"),
        carrier_code=bindparam("p_carrier_code"),
        carrier_name=bindparam("p_carrier_name"),
        shipping_method=bindparam("p_shipping_method"),
        tracking_number=bindparam("p_tracking_number"),
        cancellation_request_reviewed=bindparam("p_reviewed"),
        next_attempt_at=_later("p_sweep_after"),
    )
    .on_conflict_do_nothing(index_elements=[_F.c.account_id, _F.c.platform_fulfilment_id])
    .returning(*_F.c)
    .cte("added")
)
_new_lines = (
    func.unnest(
        bindparam("p_line_item_ids", type_=ARRAY(String())),
        bindparam("p_line_skus", type_=ARRAY(String())),
        bindparam("p_line_quantities", type_=ARRAY(Integer())),
    )
    .table_valued("order_item_id", "sku", "quantity")
    .render_derived()
)
_added_lines = (
    insert(_L)
    .from_select(
        ["fulfilment_id", "order_item_id", "sku", "quantity"],
        select(
            _added.c.id, _new_lines.c.order_item_id, _new_lines.c.sku, _new_lines.c.quantity
        ).select_from(_added.join(_new_lines, true())),
    )
    .returning(*_L.c)
    .cte("added_lines")
)
# The fulfilment and its lines in one statement (nothing when the platform_fulfilment_id is
# taken): one row per line, as stored.
_ADD = Compiled(
    select(_added, *_line_columns(_added_lines))
    .select_from(_added.outerjoin(_added_lines, true()))
    .order_by(_added_lines.c.id)
)
_INSERT_EVENT = Compiled(
    insert(_E).values(
        event_id=bindparam("p_event_id"),
        topic=bindparam("p_topic"),
        aggregate_key=bindparam("p_aggregate_key"),
        payload=bindparam("p_payload"),
    )
)
_SENDING = FulfilmentState.SENDING.value
# accepted, or sending under this owner's lease or under one that ran out -> sending.
_CLAIM = Compiled(
    _with_lines(
        update(_F)
        .where(
            _F.c.id == bindparam("p_id"),
            or_(
                _F.c.state == FulfilmentState.ACCEPTED.value,
                and_(
                    _F.c.state == _SENDING,
                    or_(
                        _F.c.lease_owner == bindparam("p_owner"),
                        _F.c.lease_until.is_(None),
                        _F.c.lease_until <= func.now(),
                    ),
                ),
            ),
        )
        .values(
            state=_SENDING,
            attempts=_F.c.attempts + 1,
            lease_owner=bindparam("p_owner"),
            lease_until=_later("p_lease"),
            updated_at=func.now(),
        )
        .returning(*_F.c)
        .cte("claimed")
    )
)
_FENCED = and_(
    _F.c.id == bindparam("p_id"),
    _F.c.state == _SENDING,
    _F.c.lease_owner == bindparam("p_owner"),
)
_RELEASE = Compiled(
    update(_F)
    .where(_FENCED)
    .values(
        state=FulfilmentState.ACCEPTED.value,
        lease_owner=None,
        lease_until=None,
        next_attempt_at=_later("p_retry_in"),
        last_error=bindparam("p_error"),
        updated_at=func.now(),
    )
    .returning(_F.c.id)
)
_CONFIRM = Compiled(
    update(_F)
    .where(_FENCED)
    .values(
        state=FulfilmentState.CONFIRMED.value,
        lease_owner=None,
        lease_until=None,
        next_attempt_at=None,
        last_error=None,
        confirmed_at=func.now(),
        amazon_order_status=bindparam("p_order_status"),
        amazon_package_status=bindparam("p_package_status"),
        amazon_checked_at=case((bindparam("p_read", type_=Boolean()), func.now()), else_=None),
        read_back_due_at=case(
            (bindparam("p_deferred", type_=Boolean()), _later("p_read_back_in")), else_=None
        ),
        updated_at=func.now(),
    )
    # now() is the transaction's start time: the read-back is checked against it.
    .returning(func.now())
)
_CONFIRMED = FulfilmentState.CONFIRMED.value
# The pending read-back due longest ago, not of a seller whose budget is spent, pushed on by
# the lease so that a concurrent run skips it.
_CLAIM_READ_BACK = Compiled(
    update(_F)
    .where(
        _F.c.id
        == select(_F.c.id)
        .where(
            _F.c.read_back_due_at <= func.now(),
            _F.c.state == _CONFIRMED,
            _F.c.account_id != func.all_(bindparam("p_skip", type_=ARRAY(BigInteger()))),
        )
        .order_by(_F.c.read_back_due_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    .values(read_back_due_at=_later("p_lease"))
    .returning(_F.c.id, _F.c.account_id, _F.c.amazon_order_id, _F.c.confirmed_at)
)
_DEFER_READ_BACK = Compiled(
    update(_F)
    .where(_F.c.id == bindparam("p_id"), _F.c.read_back_due_at.is_not(None))
    .values(
        read_back_due_at=case(
            (bindparam("p_give_up", type_=Boolean()), None), else_=_later("p_retry_in")
        ),
        last_error=bindparam("p_error"),
        updated_at=func.now(),
    )
)
_RECORD_READ_BACK = Compiled(
    update(_F)
    .where(_F.c.id == bindparam("p_id"), _F.c.read_back_due_at.is_not(None))
    .values(
        amazon_order_status=bindparam("p_order_status"),
        amazon_package_status=bindparam("p_package_status"),
        amazon_checked_at=case((bindparam("p_read", type_=Boolean()), func.now()), else_=None),
        read_back_due_at=None,
        last_error=bindparam("p_error"),
        updated_at=func.now(),
    )
    .returning(func.now())
)


def _event(conn: Connection, topic: Topic, key: str, payload: dict[str, Any]) -> None:
    _INSERT_EVENT.execute(
        conn,
        {
            "p_event_id": uuid.uuid4(),
            "p_topic": topic.value,
            "p_aggregate_key": key,
            "p_payload": Jsonb(payload),
        },
    )


def _fulfilments(rows: Iterable[Row[Any]]) -> list[Fulfilment]:
    """Rows of ``_with_lines`` grouped back into fulfilments."""
    found: dict[int, tuple[Row[Any], list[PackageLine]]] = {}
    for row in rows:
        entry = found.get(row.id)
        if entry is None:
            entry = found[row.id] = (row, [])
        if row.line_id is not None:
            entry[1].append(PackageLine(row.line_order_item_id, row.line_quantity, row.line_sku))
    return [
        _fulfilment(row, row.order_marketplace_id, row.order_ship_by_latest, lines)
        for row, lines in found.values()
    ]


def _fulfilment(
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


def _load_one(conn: Connection, fulfilment_id: int) -> Fulfilment | None:
    found = _fulfilments(_LOAD_BY_ID.all(conn, {"p_id": fulfilment_id}))
    return found[0] if found else None


def _items(conn: Connection, order_ids: Sequence[int]) -> dict[int, tuple[ItemSnapshot, ...]]:
    """Each order's items with Amazon's shipped count and ours (confirmed / in flight)."""
    items: dict[int, list[ItemSnapshot]] = {}
    for row in _ITEMS.all(conn, {"p_order_ids": list(order_ids)}):
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


class SqlIntakeUnit:
    """``domain.fulfilments.IntakeUnit``: one transaction of ``SqlFulfilmentStore.intake``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def account_id(self, ref: str) -> int | None:
        if ref.isdigit():
            found = _ACCOUNT_BY_ID.scalar(self.conn, {"p_id": int(ref)})
        else:
            found = _ACCOUNT_BY_NAME.scalar(self.conn, {"p_name": ref})
        return int(found) if found is not None else None

    def lock_order(self, account_id: int, amazon_order_id: str) -> OrderSnapshot | None:
        order = _LOCK_ORDER.first(
            self.conn, {"p_account_id": account_id, "p_amazon_order_id": amazon_order_id}
        )
        if order is None:
            return None
        return OrderSnapshot(
            order_id=order.id,
            account_id=order.account_id,
            amazon_order_id=order.amazon_order_id,
            marketplace_id=order.marketplace_id,
            status=order.status,
            fulfilled_by=order.fulfilled_by,
            purchased_at=order.purchased_at,
            ship_by_latest=order.ship_by_latest,
            buyer_cancel_requested=order.buyer_cancel_requested,
            buyer_cancel_reason=order.buyer_cancel_reason,
            items=_items(self.conn, [order.id]).get(order.id, ()),
        )

    def fulfilment_by_platform_id(
        self, account_id: int, platform_fulfilment_id: str
    ) -> Fulfilment | None:
        found = _fulfilments(
            _LOAD_BY_PLATFORM_ID.all(
                self.conn,
                {"p_account_id": account_id, "p_platform_fulfilment_id": platform_fulfilment_id},
            )
        )
        return found[0] if found else None

    def fulfilment(self, fulfilment_id: int) -> Fulfilment | None:
        return _load_one(self.conn, fulfilment_id)

    def add(self, new: NewFulfilment) -> Fulfilment | None:
        command = new.command
        # The stored row and lines come back from RETURNING (values as PostgreSQL keeps them,
        # e.g. times in UTC), so the new fulfilment is not read again; the order's fields come
        # from the snapshot locked in this transaction.
        rows = _ADD.all(
            self.conn,
            {
                "p_account_id": new.order.account_id,
                "p_order_id": new.order.order_id,
                "p_amazon_order_id": new.order.amazon_order_id,
                "p_platform_fulfilment_id": command.platform_fulfilment_id,
                "p_fingerprint": command.fingerprint(),
                "p_shipped_at": command.shipped_at,
                "p_carrier_code": command.carrier_code,
                "p_carrier_name": command.carrier_name,
                "p_shipping_method": command.shipping_method,
                "p_tracking_number": command.tracking_number,
                "p_reviewed": command.cancellation_request_reviewed,
                "p_sweep_after": new.sweep_after,
                "p_line_item_ids": [line.order_item_id for line in new.lines],
                "p_line_skus": [line.sku for line in new.lines],
                "p_line_quantities": [line.quantity for line in new.lines],
            },
        )
        if not rows:
            return None
        return _fulfilment(
            rows[0],
            new.order.marketplace_id,
            new.order.ship_by_latest,
            [
                PackageLine(row.line_order_item_id, row.line_quantity, row.line_sku)
                for row in rows
                if row.line_id is not None
            ],
        )

    def reopen(self, fulfilment_id: int, sweep_after: timedelta) -> Fulfilment | None:
        reopened = self.conn.execute(
            update(_F)
            .where(_F.c.id == fulfilment_id, _F.c.state == FulfilmentState.FAILED.value)
            .values(
                state=FulfilmentState.ACCEPTED.value,
                attempts=0,
                lease_owner=None,
                lease_until=None,
                failure_code=None,
                failure_reason=None,
                failed_at=None,
                next_attempt_at=func.now() + sweep_after,
                updated_at=func.now(),
            )
            .returning(_F.c.id)
        ).scalar_one_or_none()
        return _load_one(self.conn, fulfilment_id) if reopened is not None else None


@dataclass(frozen=True, slots=True)
class DueFulfilment:
    fulfilment_id: int
    ship_by_latest: datetime | None


class SqlFulfilmentStore:
    """``domain.fulfilments.FulfilmentStore`` and ``DeadlineStore`` on PostgreSQL."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.engine = engine
        self.sessions = sessions

    # -- intake ----------------------------------------------------------------------------

    @contextmanager
    def intake(self) -> Iterator[SqlIntakeUnit]:
        with self.engine.begin() as conn:
            yield SqlIntakeUnit(conn)

    @contextmanager
    def keyed_intake(self, scope: str, key: str, request_hash: str) -> Iterator[KeyedIntake]:
        """An API request's idempotency key and its intake in one transaction: committed (key,
        fulfilment and the answer together) when ``answer`` was called, rolled back otherwise,
        so a refused or crashed request leaves nothing behind. A second request with the same
        key waits on the key's row until the first one's transaction ends."""
        with self.engine.connect() as conn, conn.begin() as transaction:
            keyed = KeyedIntake(conn, _claim_key(conn, scope, key, request_hash))
            yield keyed
            if keyed.answered:
                transaction.commit()
            else:
                transaction.rollback()

    def record_rejection(self, request: Mapping[str, Any], rejected: Rejected) -> bool:
        digest = request_hash(request)
        errors = [{"field": e.field, "reason": e.reason} for e in rejected.errors]
        account_ref = request.get("account")
        amazon_order_id = request.get("amazon_order_id")
        platform_id = request.get("platform_fulfilment_id")

        def short(value: Any, limit: int) -> str | None:
            return str(value)[:limit] if value is not None else None

        with self.sessions.begin() as session:
            account_id = (
                SqlIntakeUnit(session.connection()).account_id(str(account_ref))
                if isinstance(account_ref, str | int) and str(account_ref)
                else None
            )
            stmt = insert(RejectedFulfilment).values(
                request_hash=digest,
                account_id=account_id,
                account_ref=short(account_ref, 100),
                amazon_order_id=short(amazon_order_id, 40),
                platform_fulfilment_id=short(platform_id, 100),
                errors=errors,
                request=dict(request),
            )
            inserted = session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[RejectedFulfilment.request_hash],
                    set_={
                        "times_seen": RejectedFulfilment.times_seen + 1,
                        "last_seen_at": func.now(),
                    },
                ).returning(text("xmax = 0"))
            ).scalar_one()
            if not inserted:
                return False
            key = (
                aggregate_key(account_id, str(amazon_order_id))
                if account_id is not None and amazon_order_id is not None
                else f"fulfilment-request:{digest[:32]}"
            )
            _event(
                session.connection(),
                Topic.FULFILMENT_FAILED,
                key,
                {
                    "account": short(account_ref, 100),
                    "account_id": account_id,
                    "channel": "amazon",
                    "buyer_notified_by": "amazon",
                    "fulfilment_id": None,
                    "platform_fulfilment_id": short(platform_id, 100),
                    "amazon_order_id": short(amazon_order_id, 40),
                    "state": "rejected",
                    "error": {
                        "source": "validation",
                        "code": "Conflict" if rejected.conflict else "InvalidRequest",
                        "message": rejected.message,
                        "errors": errors,
                    },
                },
            )
        log.warning(
            "fulfilment request refused",
            extra={"platform_fulfilment_id": short(platform_id, 100), "reason": rejected.message},
        )
        return True

    # -- sending ---------------------------------------------------------------------------

    def claim(self, fulfilment_id: int, owner: str, lease: timedelta) -> Fulfilment | None:
        with self.engine.begin() as conn:
            found = _fulfilments(
                _CLAIM.all(conn, {"p_id": fulfilment_id, "p_owner": owner, "p_lease": lease})
            )
        return found[0] if found else None

    def release(self, fulfilment_id: int, owner: str, retry_in: timedelta, error: str) -> bool:
        with self.engine.begin() as conn:
            released = _RELEASE.scalar(
                conn,
                {
                    "p_id": fulfilment_id,
                    "p_owner": owner,
                    "p_retry_in": retry_in,
                    "p_error": error[:2000],
                },
            )
        return released is not None

    def record_confirmed(self, fulfilment: Fulfilment, owner: str, read_back: ReadBack) -> bool:
        order = read_back.order
        with self.engine.begin() as conn:
            now = _CONFIRM.scalar(
                conn,
                {
                    "p_id": fulfilment.id,
                    "p_owner": owner,
                    "p_order_status": order.status.value if order is not None else None,
                    "p_package_status": read_back.package_status,
                    "p_read": order is not None,
                    "p_deferred": read_back.deferred,
                    "p_read_back_in": read_back.retry_after or timedelta(0),
                },
            )
            if now is None:
                return False
            confirmed = replace(fulfilment, state=FulfilmentState.CONFIRMED, last_error=None)
            if order is not None:
                self._store_read_back(
                    conn,
                    fulfilment.id,
                    fulfilment.account_id,
                    fulfilment.amazon_order_id,
                    order,
                    now,
                )
            payload = fulfilment_payload(confirmed)
            payload["amazon"] = _read_back_payload(read_back)
            _event(
                conn,
                Topic.FULFILMENT_CONFIRMED,
                aggregate_key(fulfilment.account_id, fulfilment.amazon_order_id),
                payload,
            )
        return True

    def _store_read_back(
        self,
        conn: Connection,
        fulfilment_id: int,
        account_id: int,
        amazon_order_id: str,
        order: AmazonOrder,
        now: datetime,
    ) -> None:
        """Amazon's order as read back is stored like any synced copy (newer and different only,
        with its version and ``orders/updated`` event), so the next sync agrees with it."""
        if order.amazon_order_id != amazon_order_id:
            log.warning("read-back returned another order", extra={"fulfilment_id": fulfilment_id})
            return
        try:
            check_order(order, now)
        except OrderProblem as problem:
            log.warning(
                "read-back order not stored",
                extra={"fulfilment_id": fulfilment_id, "reason": str(problem)},
            )
            return
        # The ingestion's upsert, in this transaction (one writer of orders for both paths).
        SqlIngestionStore(self.engine, self.sessions).upsert_orders(conn, account_id, [order])

    # -- read-backs put off ----------------------------------------------------------------

    def claim_read_back(
        self, lease: timedelta, skip_accounts: frozenset[int]
    ) -> PendingReadBack | None:
        with self.engine.begin() as conn:
            row = _CLAIM_READ_BACK.first(conn, {"p_lease": lease, "p_skip": sorted(skip_accounts)})
        if row is None:
            return None
        return PendingReadBack(row.id, row.account_id, row.amazon_order_id, row.confirmed_at)

    def defer_read_back(
        self, fulfilment_id: int, retry_in: timedelta, error: str | None, give_up: bool
    ) -> None:
        with self.engine.begin() as conn:
            _DEFER_READ_BACK.execute(
                conn,
                {
                    "p_id": fulfilment_id,
                    "p_retry_in": retry_in,
                    "p_give_up": give_up,
                    "p_error": error[:2000] if error else None,
                },
            )
        if give_up:
            log.warning(
                "read-back given up; the order sync reads the order",
                extra={"fulfilment_id": fulfilment_id, "reason": (error or "")[:500]},
            )

    def record_read_back(self, pending: PendingReadBack, read_back: ReadBack) -> None:
        order = read_back.order
        with self.engine.begin() as conn:
            now = _RECORD_READ_BACK.scalar(
                conn,
                {
                    "p_id": pending.fulfilment_id,
                    "p_order_status": order.status.value if order is not None else None,
                    "p_package_status": read_back.package_status,
                    "p_read": order is not None,
                    "p_error": read_back.error[:2000] if read_back.error else None,
                },
            )
            if now is not None and order is not None:
                self._store_read_back(
                    conn,
                    pending.fulfilment_id,
                    pending.account_id,
                    pending.amazon_order_id,
                    order,
                    now,
                )

    def record_failed(self, fulfilment_id: int, owner: str, code: str, message: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(_F)
                .where(_FENCED)
                .values(
                    state=FulfilmentState.FAILED.value,
                    lease_owner=None,
                    lease_until=None,
                    next_attempt_at=None,
                    failure_code=code[:100],
                    failure_reason=message[:2000],
                    last_error=message[:2000],
                    failed_at=func.now(),
                    updated_at=func.now(),
                )
                .returning(_F.c.id),
                {"p_id": fulfilment_id, "p_owner": owner},
            ).scalar_one_or_none()
            if done is None:
                return False
            fulfilment = _load_one(conn, fulfilment_id)
            assert fulfilment is not None
            payload = fulfilment_payload(fulfilment)
            payload["error"] = {"source": "amazon", "code": code, "message": message}
            _event(
                conn,
                Topic.FULFILMENT_FAILED,
                aggregate_key(fulfilment.account_id, fulfilment.amazon_order_id),
                payload,
            )
        log.warning(
            "fulfilment failed",
            extra={"fulfilment_id": fulfilment_id, "code": code, "reason": message[:500]},
        )
        return True

    def due_for_sending(self, limit: int, resend_after: timedelta) -> list[DueFulfilment]:
        """The sweeper's pick: fulfilments nobody is sending (a lost message, retries used up,
        a long throttle, a dead worker's lease), most urgent ship-by first. Each is pushed
        ``resend_after`` into the future so the next sweep does not queue it again."""
        sending = FulfilmentState.SENDING.value
        with self.sessions.begin() as session:
            due = (
                select(FulfilmentRow.id)
                .join(Order, Order.id == FulfilmentRow.order_id)
                .where(
                    or_(
                        FulfilmentRow.next_attempt_at.is_(None),
                        FulfilmentRow.next_attempt_at <= func.now(),
                    ),
                    or_(
                        FulfilmentRow.state == FulfilmentState.ACCEPTED.value,
                        and_(
                            FulfilmentRow.state == sending,
                            FulfilmentRow.lease_until <= func.now(),
                        ),
                    ),
                )
                .order_by(Order.ship_by_latest.asc().nulls_last(), FulfilmentRow.id)
                .limit(limit)
                .with_for_update(of=FulfilmentRow, skip_locked=True)
                .cte("due")
            )
            picked = session.execute(
                update(FulfilmentRow)
                .where(FulfilmentRow.id == due.c.id)
                .values(next_attempt_at=func.now() + _seconds(resend_after))
                .returning(FulfilmentRow.id, FulfilmentRow.order_id)
            ).all()
            if not picked:
                return []
            ship_by = dict(
                session.execute(
                    select(Order.id, Order.ship_by_latest).where(
                        Order.id.in_({order_id for _, order_id in picked})
                    )
                ).all()
            )
        found = [DueFulfilment(fid, ship_by.get(order_id)) for fid, order_id in picked]
        return sorted(
            found,
            key=lambda d: (d.ship_by_latest is None, d.ship_by_latest or _EPOCH, d.fulfilment_id),
        )

    # -- reads -----------------------------------------------------------------------------

    def get(self, fulfilment_id: int) -> Fulfilment | None:
        with self.engine.connect() as conn:
            return _load_one(conn, fulfilment_id)

    def ship_by_of(self, fulfilment_id: int) -> datetime | None:
        with self.sessions() as session:
            return session.execute(
                select(Order.ship_by_latest)
                .join(FulfilmentRow, FulfilmentRow.order_id == Order.id)
                .where(FulfilmentRow.id == fulfilment_id)
            ).scalar_one_or_none()

    def listing(
        self, *, state: str | None = None, account: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Fulfilments for operators, newest first, with the reason of a failure."""
        with self.sessions() as session:
            query = (
                select(FulfilmentRow, SellerAccount.name)
                .join(SellerAccount, SellerAccount.id == FulfilmentRow.account_id)
                .order_by(FulfilmentRow.id.desc())
                .limit(limit)
            )
            if state is not None:
                query = query.where(FulfilmentRow.state == state)
            if account is not None:
                query = query.where(
                    (SellerAccount.name == account)
                    | (SellerAccount.id == (int(account) if account.isdigit() else -1))
                )
            return [
                {
                    "id": row.id,
                    "account": name,
                    "amazon_order_id": row.amazon_order_id,
                    "platform_fulfilment_id": row.platform_fulfilment_id,
                    "state": row.state,
                    "shipped_at": row.shipped_at,
                    "carrier_code": row.carrier_code,
                    "tracking_number": row.tracking_number,
                    "attempts": row.attempts,
                    "failure_code": row.failure_code,
                    "reason": row.failure_reason or row.last_error,
                    "amazon": _amazon_view(row),
                    "updated_at": row.updated_at,
                }
                for row, name in session.execute(query)
            ]

    def rejections(self, limit: int = 50) -> list[dict[str, Any]]:
        """Requests from the queue that were refused, newest first."""
        with self.sessions() as session:
            return [
                {
                    "id": row.id,
                    "account": row.account_ref,
                    "amazon_order_id": row.amazon_order_id,
                    "platform_fulfilment_id": row.platform_fulfilment_id,
                    "errors": row.errors,
                    "times_seen": row.times_seen,
                    "last_seen_at": row.last_seen_at,
                }
                for row in session.scalars(
                    select(RejectedFulfilment)
                    .order_by(RejectedFulfilment.last_seen_at.desc())
                    .limit(limit)
                )
            ]

    # -- ship-by deadlines -----------------------------------------------------------------

    @contextmanager
    def deadline_lock(self) -> Iterator[bool]:
        """A session advisory lock on its own connection (dropped with a dead process)."""
        with advisory_lock(self.engine, "fulfil:check_deadlines") as locked:
            yield locked

    def open_orders_due_by(self, horizon: datetime) -> list[OpenOrder]:
        with self.sessions() as session:
            orders = session.execute(
                select(
                    Order.id,
                    Order.account_id,
                    Order.amazon_order_id,
                    Order.status,
                    Order.ship_by_latest,
                )
                .where(
                    Order.status.in_(_OPEN),
                    Order.fulfilled_by == FulfilledBy.MERCHANT.value,
                    Order.ship_by_latest.is_not(None),
                    Order.ship_by_latest <= horizon,
                )
                .order_by(Order.ship_by_latest, Order.id)
            ).all()
            items = _items(session.connection(), [o.id for o in orders]) if orders else {}
        return [
            OpenOrder(
                order_id=o.id,
                account_id=o.account_id,
                amazon_order_id=o.amazon_order_id,
                status=o.status,
                ship_by_latest=o.ship_by_latest,
                items=items.get(o.id, ()),
            )
            for o in orders
        ]

    def record_alerts(self, alerts: Sequence[DeadlineAlert], now: datetime) -> list[DeadlineAlert]:
        if not alerts:
            return []
        by_key = {(a.order.order_id, a.kind.value): a for a in alerts}
        new: list[DeadlineAlert] = []
        with self.sessions.begin() as session:
            stmt = insert(ShipByAlert).values(
                [
                    {
                        "order_id": a.order.order_id,
                        "kind": a.kind.value,
                        "ship_by_latest": a.order.ship_by_latest,
                    }
                    for a in by_key.values()
                ]
            )
            inserted = session.execute(
                stmt.on_conflict_do_nothing(
                    index_elements=[
                        ShipByAlert.order_id,
                        ShipByAlert.kind,
                        ShipByAlert.ship_by_latest,
                    ]
                ).returning(ShipByAlert.order_id, ShipByAlert.kind)
            ).all()
            for order_id, kind in inserted:
                alert = by_key[(order_id, kind)]
                new.append(alert)
                order = alert.order
                _event(
                    session.connection(),
                    DEADLINE_TOPICS[alert.kind],
                    aggregate_key(order.account_id, order.amazon_order_id),
                    {
                        "account_id": order.account_id,
                        "channel": "amazon",
                        "buyer_notified_by": "amazon",
                        "amazon_order_id": order.amazon_order_id,
                        "status": order.status,
                        "ship_by_latest": _iso(order.ship_by_latest),
                        "minutes_left": int((order.ship_by_latest - now).total_seconds() // 60),
                        "quantity_unshipped": order.quantity_remaining,
                        "items": [
                            {
                                "order_item_id": item.order_item_id,
                                "sku": item.sku,
                                "quantity_unshipped": item.quantity_remaining,
                            }
                            for item in order.items
                            if item.quantity_remaining > 0
                        ],
                    },
                )
        return new


# --- the API's idempotency keys -----------------------------------------------------------------


class KeyStatus(StrEnum):
    NEW = "new"  # ours to run
    REPLAY = "replay"  # answered before: return the stored answer
    MISMATCH = "mismatch"  # the key came with another body


@dataclass(frozen=True, slots=True)
class KeyClaim:
    status: KeyStatus
    key_id: int
    response_code: int | None = None
    response_body: dict[str, Any] | None = None


_CLAIM_KEY = Compiled(
    insert(_K)
    .values(scope=bindparam("p_scope"), key=bindparam("p_key"), request_hash=bindparam("p_hash"))
    .on_conflict_do_nothing(index_elements=[_K.c.scope, _K.c.key])
    .returning(_K.c.id)
)
_FIND_KEY = Compiled(
    select(_K.c.id, _K.c.request_hash, _K.c.response_code, _K.c.response_body).where(
        _K.c.scope == bindparam("p_scope"), _K.c.key == bindparam("p_key")
    )
)
_TAKE_OVER_KEY = Compiled(
    update(_K)
    .where(_K.c.id == bindparam("p_id"))
    .values(request_hash=bindparam("p_hash"), locked_at=None)
)
_ANSWER_KEY = Compiled(
    update(_K)
    .where(_K.c.id == bindparam("p_id"))
    .values(response_code=bindparam("p_code"), response_body=bindparam("p_body"), locked_at=None)
)


def _claim_key(conn: Connection, scope: str, key: str, request_hash: str) -> KeyClaim:
    """Stripe-style keys on ``idempotency_keys``, written in the request's own transaction.

    A key is kept only with the answer of a request that ran (2xx), committed together with what
    the request stored; a refused (422/409) or crashed request rolls its key back, so the
    platform can fix the body and send it again under the same key (Stripe does the same for
    requests that failed validation). The insert waits while another transaction holds the same
    key, so two requests with one key run one after the other: the second replays the first."""
    params = {"p_scope": scope, "p_key": key, "p_hash": request_hash}
    key_id = _CLAIM_KEY.scalar(conn, params)
    if key_id is not None:
        return KeyClaim(KeyStatus.NEW, key_id)
    row = _FIND_KEY.first(conn, params)
    assert row is not None  # the insert found it there
    if row.response_code is None:
        # A key without an answer (kept by an earlier release, which claimed keys in a
        # transaction of their own, for a request that died) binds no body: it is ours now.
        _TAKE_OVER_KEY.execute(conn, {"p_id": row.id, "p_hash": request_hash})
        return KeyClaim(KeyStatus.NEW, row.id)
    if row.request_hash != request_hash:
        return KeyClaim(KeyStatus.MISMATCH, row.id)
    return KeyClaim(KeyStatus.REPLAY, row.id, row.response_code, row.response_body)


class KeyedIntake:
    """``SqlFulfilmentStore.keyed_intake``'s transaction: the key's claim, an ``IntakeStore``
    whose units run in this same transaction, and the answer to keep with the key."""

    def __init__(self, conn: Connection, claim: KeyClaim) -> None:
        self.conn = conn
        self.claim = claim
        self.answered = False

    @contextmanager
    def intake(self) -> Iterator[SqlIntakeUnit]:
        yield SqlIntakeUnit(self.conn)

    def answer(self, code: int, body: dict[str, Any]) -> None:
        """Keep this answer with the key; the transaction commits when the block ends."""
        if self.claim.status is not KeyStatus.NEW:
            raise RuntimeError(f"the key was {self.claim.status}: it takes no answer")
        _ANSWER_KEY.execute(
            self.conn, {"p_id": self.claim.key_id, "p_code": code, "p_body": Jsonb(body)}
        )
        self.answered = True
