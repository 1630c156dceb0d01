"""The sweeper's pick and the store's reads: fulfilments nobody is sending, one fulfilment,
and the operators' listing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from domain.fulfilments import Fulfilment, FulfilmentState
from infra.db.accounts import account_matches
from infra.db.fulfilments.base import StoreBase
from infra.db.fulfilments.rows import amazon_view, load_one
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.db.tables import Order, SellerAccount, reaches_amazon

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _seconds(value: timedelta) -> Any:
    return func.make_interval(0, 0, 0, 0, 0, 0, value.total_seconds())


@dataclass(frozen=True, slots=True)
class DueFulfilment:
    fulfilment_id: int
    ship_by_latest: datetime | None


class SweeperMixin(StoreBase):
    def due_for_sending(self, limit: int, resend_after: timedelta) -> list[DueFulfilment]:
        """The sweeper's pick: fulfilments nobody is sending (a lost message, retries used up,
        a long throttle, a dead worker's lease), most urgent ship-by first. Each is pushed
        ``resend_after`` into the future so the next sweep does not queue it again."""
        sending = FulfilmentState.SENDING.value
        with self.sessions.begin() as session:
            due = (
                select(FulfilmentRow.id)
                .join(Order, Order.id == FulfilmentRow.order_id)
                .join(SellerAccount, SellerAccount.id == FulfilmentRow.account_id)
                .where(
                    reaches_amazon(),  # a disconnected (disabled, paused) account sends nothing
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
            return load_one(conn, fulfilment_id)

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
                query = query.where(account_matches(account))
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
                    "amazon": amazon_view(row),
                    "updated_at": row.updated_at,
                }
                for row, name in session.execute(query)
            ]
