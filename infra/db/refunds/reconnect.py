"""What reconnecting an account reads and changes in the store: the refunds and cancellations
held while it was disconnected (with their orders as synced now), the fulfilments waiting, the
sync's watermark, and the operator's approvals and rejections (``domain.refunds.reconnect``).

Plain SQLAlchemy Core: these run once per reconnect, not per refund."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from domain.fulfilments import FulfilmentState
from domain.orders import AmazonOrder
from domain.refunds import (
    CancellationFailed,
    Refund,
    RefundFailed,
    RefundKind,
    RefundState,
)
from infra.db.refunds.base import StoreBase
from infra.db.refunds.rows import R, load, load_order, with_lines
from infra.db.refunds.statements import sources_of
from infra.db.tables import Fulfilment, Order, SellerAccount, SyncCursor

_WAITING = frozenset({RefundState.HELD, RefundState.AWAITING_APPROVAL})
_TO_AWAIT = sources_of(RefundState.AWAITING_APPROVAL, frozenset({RefundState.HELD}))
_TO_ACCEPT = sources_of(RefundState.ACCEPTED, frozenset({RefundState.AWAITING_APPROVAL}))
_TO_FAIL = sources_of(RefundState.FAILED, frozenset({RefundState.AWAITING_APPROVAL}))
REJECTED_CODE = "RejectedAtReconnect"


def _states(states: frozenset[RefundState]) -> list[str]:
    return sorted(state.value for state in states)


class ReconnectMixin(StoreBase):
    def held(self, account_id: int) -> list[tuple[Refund, AmazonOrder | None]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(R)
                .where(R.c.account_id == account_id, R.c.state.in_(_states(_WAITING)))
                .order_by(R.c.id)
            ).all()
            refunds = with_lines(conn, rows)
            orders: dict[int, AmazonOrder] = {}
            for row in rows:
                if row.order_id is not None and row.order_id not in orders:
                    order = conn.execute(select(Order).where(Order.id == row.order_id)).one()
                    orders[row.order_id] = load_order(conn, order)
            return [
                (refund, orders.get(row.order_id) if row.order_id is not None else None)
                for refund, row in zip(refunds, rows, strict=True)
            ]

    def fulfilments_waiting(self, account_id: int) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(Fulfilment)
                .where(
                    Fulfilment.account_id == account_id,
                    Fulfilment.state == FulfilmentState.ACCEPTED.value,
                )
            ).scalar_one()
            return int(count)

    def sync_watermark(self, account_id: int) -> datetime | None:
        with self.engine.connect() as conn:
            found: datetime | None = conn.execute(
                select(SyncCursor.watermark).where(
                    SyncCursor.account_id == account_id, SyncCursor.scope == "orders"
                )
            ).scalar_one_or_none()
            return found

    def reconnected_at(self, account_id: int) -> datetime | None:
        with self.engine.connect() as conn:
            found: datetime | None = conn.execute(
                select(SellerAccount.reconnected_at).where(SellerAccount.id == account_id)
            ).scalar_one_or_none()
            return found

    def hold_for_approval(self, account_id: int) -> int:
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(R)
                .where(R.c.account_id == account_id, R.c.state.in_(_states(_TO_AWAIT)))
                .values(state=RefundState.AWAITING_APPROVAL.value, updated_at=func.now())
                .returning(R.c.id)
            ).all()
            return len(moved)

    def approve(self, account_id: int, refund_ids: Sequence[int]) -> list[int]:
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(R)
                .where(
                    R.c.account_id == account_id,
                    R.c.id.in_(list(refund_ids)),
                    R.c.state.in_(_states(_TO_ACCEPT)),
                )
                .values(
                    state=RefundState.ACCEPTED.value,
                    approved_at=func.now(),
                    next_attempt_at=func.now(),
                    updated_at=func.now(),
                )
                .returning(R.c.id)
            ).all()
            return sorted(row.id for row in moved)

    def reject(self, account_id: int, refund_ids: Sequence[int], reason: str) -> list[int]:
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(R)
                .where(
                    R.c.account_id == account_id,
                    R.c.id.in_(list(refund_ids)),
                    R.c.state.in_(_states(_TO_FAIL)),
                )
                .values(
                    state=RefundState.FAILED.value,
                    failure_code=REJECTED_CODE,
                    failure_reason=reason,
                    failed_at=func.now(),
                    updated_at=func.now(),
                )
                .returning(R.c.id)
            ).all()
            ids = sorted(row.id for row in moved)
            events = [
                CancellationFailed(refund, REJECTED_CODE, reason)
                if refund.kind is RefundKind.CANCELLATION
                else RefundFailed(refund, REJECTED_CODE, reason)
                for refund in load(conn, ids)
            ]
            self._append(conn, events)
            return ids
