"""Amazon's view after a confirmation: stored with the confirmation when it could be read, or
put off (the seller's ``getOrder`` budget is a quarter of ``confirmShipment``'s) and read here
later, the longest due first."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection

from domain.fulfilments import PendingReadBack, ReadBack
from domain.orders import AmazonOrder, OrderProblem, check_order
from infra.db.fulfilments.base import StoreBase
from infra.db.fulfilments.statements import (
    CLAIM_READ_BACK,
    DEFER_READ_BACK,
    RECORD_READ_BACK,
)
from infra.db.ingestion import SqlIngestionStore

log = logging.getLogger(__name__)


class ReadBackMixin(StoreBase):
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
        orders = SqlIngestionStore(self.engine, self.sessions, self.encode)
        orders.upsert_orders(conn, account_id, [order])

    def claim_read_back(
        self, lease: timedelta, skip_accounts: frozenset[int]
    ) -> PendingReadBack | None:
        with self.engine.begin() as conn:
            row = CLAIM_READ_BACK.first(conn, {"p_lease": lease, "p_skip": sorted(skip_accounts)})
        if row is None:
            return None
        return PendingReadBack(row.id, row.account_id, row.amazon_order_id, row.confirmed_at)

    def defer_read_back(
        self, fulfilment_id: int, retry_in: timedelta, error: str | None, give_up: bool
    ) -> None:
        with self.engine.begin() as conn:
            DEFER_READ_BACK.execute(
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
            now = RECORD_READ_BACK.scalar(
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
