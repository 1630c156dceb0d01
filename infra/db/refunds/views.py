"""The store's reads of refunds and cancellations: one by id, and the listing the doors and the
operators page through (oldest first, after a cursor)."""

from __future__ import annotations

from sqlalchemy import select

from domain.refunds import Refund, RefundKind, RefundState
from infra.db.refunds.base import StoreBase
from infra.db.refunds.rows import R, load_one, with_lines

MAX_LIMIT = 500


class ViewsMixin(StoreBase):
    def get(self, refund_id: int) -> Refund | None:
        with self.engine.connect() as conn:
            return load_one(conn, refund_id)

    def list(
        self,
        *,
        kind: RefundKind | None = None,
        account_id: int | None = None,
        amazon_order_id: str | None = None,
        state: RefundState | None = None,
        after_id: int | None = None,
        limit: int = 50,
    ) -> list[Refund]:
        """Oldest first by id, after ``after_id`` (a cursor), at most ``limit`` (up to 500)."""
        query = select(R).order_by(R.c.id).limit(max(min(limit, MAX_LIMIT), 0))
        if kind is not None:
            query = query.where(R.c.kind == kind.value)
        if account_id is not None:
            query = query.where(R.c.account_id == account_id)
        if amazon_order_id is not None:
            query = query.where(R.c.amazon_order_id == amazon_order_id)
        if state is not None:
            query = query.where(R.c.state == state.value)
        if after_id is not None:
            query = query.where(R.c.id > after_id)
        with self.engine.connect() as conn:
            return with_lines(conn, list(conn.execute(query)))
