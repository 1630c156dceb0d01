"""The sweeper's pick and the operators' reads: fulfilments nobody is sending, a fulfilment's
ship-by, and the operators' listing (the platform's is ``views``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from domain.fulfilments import FulfilmentState
from infra.db.fulfilments.base import StoreBase
from infra.db.fulfilments.rows import amazon_view
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.db.tables import Order, SellerAccount, reaches_amazon

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _seconds(value: timedelta) -> Any:
    return func.make_interval(0, 0, 0, 0, 0, 0, value.total_seconds())


@dataclass(frozen=True, slots=True)
class DueFulfilment:
    fulfilment_id: int
    ship_by_latest: datetime | None
    # What Flower shows of the queued task (``workers.base.shown_as``).
    account_id: int | None = None
    amazon_order_id: str | None = None


class SweeperMixin(StoreBase):
    def due_for_sending(
        self, limit: int, resend_after: timedelta, lost_before: datetime | None = None
    ) -> list[DueFulfilment]:
        """The sweeper's pick: fulfilments nobody is sending (a lost message, retries used up,
        a long throttle, a dead worker's lease), most urgent ship-by first. Each is pushed
        ``resend_after`` into the future so the next sweep does not queue it again. With
        ``lost_before`` (the broker lost its messages), those put off to before it count as
        due now: their messages were lost."""
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
                        *([FulfilmentRow.next_attempt_at < lost_before] if lost_before else []),
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
                .returning(
                    FulfilmentRow.id,
                    FulfilmentRow.order_id,
                    FulfilmentRow.account_id,
                    FulfilmentRow.amazon_order_id,
                )
            ).all()
            if not picked:
                return []
            ship_by = dict(
                session.execute(
                    select(Order.id, Order.ship_by_latest).where(
                        Order.id.in_({row.order_id for row in picked})
                    )
                ).all()
            )
        found = [
            DueFulfilment(row.id, ship_by.get(row.order_id), row.account_id, row.amazon_order_id)
            for row in picked
        ]
        return sorted(
            found,
            key=lambda d: (d.ship_by_latest is None, d.ship_by_latest or _EPOCH, d.fulfilment_id),
        )

    # -- reads -----------------------------------------------------------------------------

    def ship_by_of(self, fulfilment_id: int) -> datetime | None:
        with self.sessions() as session:
            return session.execute(
                select(Order.ship_by_latest)
                .join(FulfilmentRow, FulfilmentRow.order_id == Order.id)
                .where(FulfilmentRow.id == fulfilment_id)
            ).scalar_one_or_none()

    def amazon_views(self, fulfilment_ids: Sequence[int]) -> dict[int, str | None]:
        """For operators: what the read-back found of each (``rows.amazon_view``)."""
        if not fulfilment_ids:
            return {}
        with self.sessions() as session:
            rows = session.scalars(
                select(FulfilmentRow).where(FulfilmentRow.id.in_(list(fulfilment_ids)))
            )
            return {row.id: amazon_view(row) for row in rows}
