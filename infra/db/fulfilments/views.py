"""The store's reads of fulfilments: one by id, and the listing the platform and the operators
page through (oldest first, after a cursor), the refunds' listing (``infra.db.refunds.views``)
with the fulfilments' filters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from domain.fulfilments import Fulfilment, FulfilmentState
from infra.db.fulfilments.base import StoreBase
from infra.db.fulfilments.rows import fulfilments_of, load_one
from infra.db.fulfilments.statements import F, with_lines

MAX_LIMIT = 500


class ViewsMixin(StoreBase):
    def get(self, fulfilment_id: int) -> Fulfilment | None:
        with self.engine.connect() as conn:
            return load_one(conn, fulfilment_id)

    def list(
        self,
        *,
        account_id: int | None = None,
        amazon_order_id: str | None = None,
        state: FulfilmentState | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        after_id: int | None = None,
        limit: int = 50,
    ) -> list[Fulfilment]:
        """Oldest first by id, after ``after_id`` (a cursor), at most ``limit`` (up to 500);
        taken in at ``created_since`` or later and before ``created_until``."""
        picked = select(F).order_by(F.c.id).limit(max(min(limit, MAX_LIMIT), 0))
        if account_id is not None:
            picked = picked.where(F.c.account_id == account_id)
        if amazon_order_id is not None:
            picked = picked.where(F.c.amazon_order_id == amazon_order_id)
        if state is not None:
            picked = picked.where(F.c.state == state.value)
        if created_since is not None:
            picked = picked.where(F.c.accepted_at >= created_since)
        if created_until is not None:
            picked = picked.where(F.c.accepted_at < created_until)
        if after_id is not None:
            picked = picked.where(F.c.id > after_id)
        with self.engine.connect() as conn:
            return fulfilments_of(conn.execute(with_lines(picked.cte("picked"))))
