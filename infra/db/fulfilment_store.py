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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from domain.fulfilment import (
    DEADLINE_TOPICS,
    DeadlineAlert,
    Fulfilment,
    FulfilmentState,
    ItemSnapshot,
    NewFulfilment,
    OpenOrder,
    OrderSnapshot,
    PackageLine,
    ReadBack,
    Rejected,
    Topic,
)
from domain.orders import FulfilledBy, OrderProblem, OrderStatus, check_order
from infra.db.engine import advisory_lock
from infra.db.ingestion_store import SqlIngestionStore, aggregate_key
from infra.db.models import Fulfilment as FulfilmentRow
from infra.db.models import (
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


def _read_back_payload(read_back: ReadBack) -> dict[str, Any]:
    order = read_back.order
    return {
        "order_status": order.status.value if order is not None else None,
        "package_status": read_back.package_status,
        "package_listed": read_back.package_listed,
        "read_error": read_back.error,
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


def _event(session: Session, topic: Topic, key: str, payload: dict[str, Any]) -> None:
    session.execute(
        insert(OutboxEvent).values(
            event_id=uuid.uuid4(), topic=topic.value, aggregate_key=key, payload=payload
        )
    )


def _fulfilment(
    row: FulfilmentRow,
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


def _load(session: Session, *conditions: Any) -> list[Fulfilment]:
    # One round trip: the fulfilments with their order's fields and their lines (outer join,
    # one row per line), grouped back here in (fulfilment id, line id) order.
    rows = session.execute(
        select(
            FulfilmentRow,
            Order.marketplace_id,
            Order.ship_by_latest,
            FulfilmentLine.order_item_id,
            FulfilmentLine.quantity,
            FulfilmentLine.sku,
            FulfilmentLine.id,
        )
        .join(Order, Order.id == FulfilmentRow.order_id)
        .outerjoin(FulfilmentLine, FulfilmentLine.fulfilment_id == FulfilmentRow.id)
        .where(*conditions)
        .order_by(FulfilmentRow.id, FulfilmentLine.id)
    ).all()
    found: dict[int, tuple[FulfilmentRow, str, datetime | None, list[PackageLine]]] = {}
    for row, marketplace_id, ship_by_latest, item_id, quantity, sku, line_id in rows:
        entry = found.get(row.id)
        if entry is None:
            entry = found[row.id] = (row, marketplace_id, ship_by_latest, [])
        if line_id is not None:
            entry[3].append(PackageLine(item_id, quantity, sku))
    return [_fulfilment(*entry) for entry in found.values()]


def _load_one(session: Session, fulfilment_id: int) -> Fulfilment | None:
    found = _load(session, FulfilmentRow.id == fulfilment_id)
    return found[0] if found else None


def _items(session: Session, order_ids: Sequence[int]) -> dict[int, tuple[ItemSnapshot, ...]]:
    """Each order's items with Amazon's shipped count and ours (confirmed / in flight)."""
    ours: dict[tuple[int, str], dict[str, int]] = {}
    for order_id, item_id, state, quantity in session.execute(
        select(
            FulfilmentRow.order_id,
            FulfilmentLine.order_item_id,
            FulfilmentRow.state,
            func.sum(FulfilmentLine.quantity),
        )
        .join(FulfilmentRow, FulfilmentRow.id == FulfilmentLine.fulfilment_id)
        .where(
            FulfilmentRow.order_id.in_(order_ids),
            FulfilmentRow.state != FulfilmentState.FAILED.value,
        )
        .group_by(FulfilmentRow.order_id, FulfilmentLine.order_item_id, FulfilmentRow.state)
    ):
        ours.setdefault((order_id, item_id), {})[state] = int(quantity)
    items: dict[int, list[ItemSnapshot]] = {}
    for item in session.scalars(
        select(OrderItem).where(OrderItem.order_id.in_(order_ids)).order_by(OrderItem.id)
    ):
        counts = ours.get((item.order_id, item.order_item_id), {})
        items.setdefault(item.order_id, []).append(
            ItemSnapshot(
                order_item_id=item.order_item_id,
                sku=item.sku,
                quantity_ordered=item.quantity_ordered,
                quantity_shipped=item.quantity_shipped,
                quantity_confirmed=counts.get(FulfilmentState.CONFIRMED.value, 0),
                quantity_pending=sum(counts.get(s, 0) for s in _IN_FLIGHT),
                cancel_requested=item.cancel_requested,
            )
        )
    return {order_id: tuple(found) for order_id, found in items.items()}


class SqlIntakeUnit:
    """``domain.fulfilment.IntakeUnit``: one transaction of ``SqlFulfilmentStore.intake``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def account_id(self, ref: str) -> int | None:
        if ref.isdigit():
            found = self.session.get(SellerAccount, int(ref))
            return found.id if found is not None else None
        return self.session.scalars(
            select(SellerAccount.id).where(SellerAccount.name == ref)
        ).first()

    def lock_order(self, account_id: int, amazon_order_id: str) -> OrderSnapshot | None:
        order = self.session.scalars(
            select(Order)
            .where(Order.account_id == account_id, Order.amazon_order_id == amazon_order_id)
            .with_for_update()
        ).first()
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
            items=_items(self.session, [order.id]).get(order.id, ()),
        )

    def fulfilment_by_platform_id(
        self, account_id: int, platform_fulfilment_id: str
    ) -> Fulfilment | None:
        found = _load(
            self.session,
            FulfilmentRow.account_id == account_id,
            FulfilmentRow.platform_fulfilment_id == platform_fulfilment_id,
        )
        return found[0] if found else None

    def fulfilment(self, fulfilment_id: int) -> Fulfilment | None:
        return _load_one(self.session, fulfilment_id)

    def add(self, new: NewFulfilment) -> Fulfilment | None:
        command = new.command
        # The stored row and lines come back from RETURNING (values as PostgreSQL keeps them,
        # e.g. times in UTC), so the new fulfilment is not read again; the order's fields come
        # from the snapshot locked in this transaction.
        row = self.session.scalars(
            insert(FulfilmentRow)
            .values(
                account_id=new.order.account_id,
                order_id=new.order.order_id,
                amazon_order_id=new.order.amazon_order_id,
                platform_fulfilment_id=command.platform_fulfilment_id,
                fingerprint=command.fingerprint(),
                state=FulfilmentState.ACCEPTED.value,
                shipped_at=command.shipped_at,
                carrier_code=command.carrier_code,
                carrier_name=command.carrier_name,
                shipping_method=command.shipping_method,
                tracking_number=command.tracking_number,
                cancellation_request_reviewed=command.cancellation_request_reviewed,
                next_attempt_at=func.now() + _seconds(new.sweep_after),
            )
            .on_conflict_do_nothing(
                index_elements=[FulfilmentRow.account_id, FulfilmentRow.platform_fulfilment_id]
            )
            .returning(FulfilmentRow)
        ).one_or_none()
        if row is None:
            return None
        lines = self.session.execute(
            insert(FulfilmentLine)
            .values(
                [
                    {
                        "fulfilment_id": row.id,
                        "order_item_id": line.order_item_id,
                        "sku": line.sku,
                        "quantity": line.quantity,
                    }
                    for line in new.lines
                ]
            )
            .returning(
                FulfilmentLine.id,
                FulfilmentLine.order_item_id,
                FulfilmentLine.quantity,
                FulfilmentLine.sku,
            )
        ).all()
        return _fulfilment(
            row,
            new.order.marketplace_id,
            new.order.ship_by_latest,
            [PackageLine(item_id, quantity, sku) for _, item_id, quantity, sku in sorted(lines)],
        )

    def reopen(self, fulfilment_id: int, sweep_after: timedelta) -> Fulfilment | None:
        reopened = self.session.execute(
            update(FulfilmentRow)
            .where(
                FulfilmentRow.id == fulfilment_id,
                FulfilmentRow.state == FulfilmentState.FAILED.value,
            )
            .values(
                state=FulfilmentState.ACCEPTED.value,
                attempts=0,
                lease_owner=None,
                lease_until=None,
                failure_code=None,
                failure_reason=None,
                failed_at=None,
                next_attempt_at=func.now() + _seconds(sweep_after),
                updated_at=func.now(),
            )
            .returning(FulfilmentRow.id)
        ).scalar_one_or_none()
        return _load_one(self.session, fulfilment_id) if reopened is not None else None


@dataclass(frozen=True, slots=True)
class DueFulfilment:
    fulfilment_id: int
    ship_by_latest: datetime | None


class SqlFulfilmentStore:
    """``domain.fulfilment.FulfilmentStore`` and ``DeadlineStore`` on PostgreSQL."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.engine = engine
        self.sessions = sessions

    # -- intake ----------------------------------------------------------------------------

    @contextmanager
    def intake(self) -> Iterator[SqlIntakeUnit]:
        with self.sessions.begin() as session:
            yield SqlIntakeUnit(session)

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
                SqlIntakeUnit(session).account_id(str(account_ref))
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
                session,
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
        sending = FulfilmentState.SENDING.value
        with self.sessions.begin() as session:
            claimed = session.execute(
                update(FulfilmentRow)
                .where(
                    FulfilmentRow.id == fulfilment_id,
                    or_(
                        FulfilmentRow.state == FulfilmentState.ACCEPTED.value,
                        and_(
                            FulfilmentRow.state == sending,
                            or_(
                                FulfilmentRow.lease_owner == owner,
                                FulfilmentRow.lease_until.is_(None),
                                FulfilmentRow.lease_until <= func.now(),
                            ),
                        ),
                    ),
                )
                .values(
                    state=sending,
                    attempts=FulfilmentRow.attempts + 1,
                    lease_owner=owner,
                    lease_until=func.now() + _seconds(lease),
                    updated_at=func.now(),
                )
                .returning(FulfilmentRow.id)
            ).scalar_one_or_none()
            return _load_one(session, fulfilment_id) if claimed is not None else None

    def _fenced(self, fulfilment_id: int, owner: str) -> Any:
        return and_(
            FulfilmentRow.id == fulfilment_id,
            FulfilmentRow.state == FulfilmentState.SENDING.value,
            FulfilmentRow.lease_owner == owner,
        )

    def release(self, fulfilment_id: int, owner: str, retry_in: timedelta, error: str) -> bool:
        with self.sessions.begin() as session:
            released = session.execute(
                update(FulfilmentRow)
                .where(self._fenced(fulfilment_id, owner))
                .values(
                    state=FulfilmentState.ACCEPTED.value,
                    lease_owner=None,
                    lease_until=None,
                    next_attempt_at=func.now() + _seconds(retry_in),
                    last_error=error[:2000],
                    updated_at=func.now(),
                )
                .returning(FulfilmentRow.id)
            ).scalar_one_or_none()
        return released is not None

    def record_confirmed(self, fulfilment_id: int, owner: str, read_back: ReadBack) -> bool:
        order = read_back.order
        with self.sessions.begin() as session:
            now = session.execute(
                update(FulfilmentRow)
                .where(self._fenced(fulfilment_id, owner))
                .values(
                    state=FulfilmentState.CONFIRMED.value,
                    lease_owner=None,
                    lease_until=None,
                    next_attempt_at=None,
                    last_error=None,
                    confirmed_at=func.now(),
                    amazon_order_status=order.status.value if order is not None else None,
                    amazon_package_status=read_back.package_status,
                    amazon_checked_at=func.now() if order is not None else None,
                    updated_at=func.now(),
                )
                # now() is the transaction's start time: the read-back is checked against it.
                .returning(func.now())
            ).scalar_one_or_none()
            if now is None:
                return False
            fulfilment = _load_one(session, fulfilment_id)
            assert fulfilment is not None
            if order is not None:
                self._store_read_back(session, fulfilment, read_back, now)
            payload = fulfilment_payload(fulfilment)
            payload["amazon"] = _read_back_payload(read_back)
            _event(
                session,
                Topic.FULFILMENT_CONFIRMED,
                aggregate_key(fulfilment.account_id, fulfilment.amazon_order_id),
                payload,
            )
        return True

    def _store_read_back(
        self, session: Session, fulfilment: Fulfilment, read_back: ReadBack, now: datetime
    ) -> None:
        """Amazon's order as read back is stored like any synced copy (newer and different only,
        with its version and ``orders/updated`` event), so the next sync agrees with it."""
        order = read_back.order
        assert order is not None
        if order.amazon_order_id != fulfilment.amazon_order_id:
            log.warning("read-back returned another order", extra={"fulfilment_id": fulfilment.id})
            return
        try:
            check_order(order, now)
        except OrderProblem as problem:
            log.warning(
                "read-back order not stored",
                extra={"fulfilment_id": fulfilment.id, "reason": str(problem)},
            )
            return
        # The ingestion's upsert, in this transaction (one writer of orders for both paths).
        SqlIngestionStore(self.engine, self.sessions).upsert_orders(
            session, fulfilment.account_id, [order]
        )

    def record_failed(self, fulfilment_id: int, owner: str, code: str, message: str) -> bool:
        with self.sessions.begin() as session:
            done = session.execute(
                update(FulfilmentRow)
                .where(self._fenced(fulfilment_id, owner))
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
                .returning(FulfilmentRow.id)
            ).scalar_one_or_none()
            if done is None:
                return False
            fulfilment = _load_one(session, fulfilment_id)
            assert fulfilment is not None
            payload = fulfilment_payload(fulfilment)
            payload["error"] = {"source": "amazon", "code": code, "message": message}
            _event(
                session,
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
        with self.sessions() as session:
            return _load_one(session, fulfilment_id)

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
            items = _items(session, [o.id for o in orders]) if orders else {}
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
                    session,
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
    NEW = "new"  # ours to run (first use, or a holder that died long ago)
    REPLAY = "replay"  # answered before: return the stored answer
    MISMATCH = "mismatch"  # the key came with another body
    IN_PROGRESS = "in_progress"  # a request with this key is running now


@dataclass(frozen=True, slots=True)
class KeyClaim:
    status: KeyStatus
    key_id: int | None = None
    response_code: int | None = None
    response_body: dict[str, Any] | None = None


class SqlIdempotencyKeys:
    """Stripe-style keys on ``idempotency_keys``: the first answer to a key is kept and replayed.

    Only answers of requests that ran are kept (2xx); a refused request (422/409) forgets its key,
    so the platform can fix the body and send it again under the same key (Stripe does the same
    for requests that failed validation). A key whose holder died is taken over after
    ``lock_timeout``.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        scope: str,
        lock_timeout: timedelta = timedelta(seconds=90),
    ) -> None:
        self.sessions = sessions
        self.scope = scope
        self.lock_timeout = lock_timeout

    def begin(self, key: str, request_hash: str) -> KeyClaim:
        with self.sessions.begin() as session:
            key_id = session.execute(
                insert(IdempotencyKey)
                .values(scope=self.scope, key=key, request_hash=request_hash, locked_at=func.now())
                .on_conflict_do_nothing(index_elements=[IdempotencyKey.scope, IdempotencyKey.key])
                .returning(IdempotencyKey.id)
            ).scalar_one_or_none()
            if key_id is not None:
                return KeyClaim(KeyStatus.NEW, key_id)
            row = session.scalars(
                select(IdempotencyKey).where(
                    IdempotencyKey.scope == self.scope, IdempotencyKey.key == key
                )
            ).one()
            if row.request_hash != request_hash:
                return KeyClaim(KeyStatus.MISMATCH, row.id)
            if row.response_code is not None:
                return KeyClaim(KeyStatus.REPLAY, row.id, row.response_code, row.response_body)
            taken = session.execute(
                update(IdempotencyKey)
                .where(
                    IdempotencyKey.id == row.id,
                    IdempotencyKey.response_code.is_(None),
                    or_(
                        IdempotencyKey.locked_at.is_(None),
                        IdempotencyKey.locked_at < func.now() - _seconds(self.lock_timeout),
                    ),
                )
                .values(locked_at=func.now())
                .returning(IdempotencyKey.id)
            ).scalar_one_or_none()
            if taken is not None:
                return KeyClaim(KeyStatus.NEW, row.id)
            return KeyClaim(KeyStatus.IN_PROGRESS, row.id)

    def finish(self, key_id: int, code: int, body: dict[str, Any]) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == key_id)
                .values(response_code=code, response_body=body, locked_at=None)
            )

    def forget(self, key_id: int) -> None:
        with self.sessions.begin() as session:
            session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.id == key_id, IdempotencyKey.response_code.is_(None)
                )
            )
