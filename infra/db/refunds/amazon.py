"""Refunds made on Amazon, as the store keeps them (``domain.refunds.ports.AmazonRefundStore``):
recorded once by ``amazon_key`` (a row of source ``amazon``, confirmed, with its event), the
store's own refunds paired with the Amazon refund that applied them (their ``amazon_key``), the
failures of refunds Amazon's make too much, and where the Finances sweep stands.

A unit locks the order as intake does (``SELECT ... FOR UPDATE``), so a refund is never
checked against a remainder another transaction is changing. A refund of an order the store
has not synced has no order to lock: its row goes in with ``ON CONFLICT DO NOTHING`` on the
account's ``amazon_key``, so two sweeps at once record it once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as upsert

from domain.refunds import (
    TRANSITIONS,
    AmazonRefund,
    Refund,
    RefundRecordedFromAmazon,
    RefundSource,
    RefundState,
)
from domain.refunds.send import failed_event
from infra.db import outbox
from infra.db.feeds.transitions import in_states, sources_in
from infra.db.outbox import EventEncoder
from infra.db.refunds.base import StoreBase
from infra.db.refunds.intake import SqlRefundIntakeUnit
from infra.db.refunds.rows import L, R, lines_values, load_one, refund_of, refund_values
from infra.db.tables import FinanceCursor, Order, SellerAccount, reaches_amazon

_O = R.metadata.tables[Order.__tablename__]
_A = R.metadata.tables[SellerAccount.__tablename__]
_C = R.metadata.tables[FinanceCursor.__tablename__]
FAIL_FROM = sources_in(TRANSITIONS, RefundState.FAILED, {RefundState.ACCEPTED})


class SqlAmazonRefundUnit(SqlRefundIntakeUnit):
    """``domain.refunds.ports.AmazonRefundUnit``: one transaction (``lock_order`` and
    ``refunded`` are intake's)."""

    def __init__(self, conn: Connection, encode: EventEncoder) -> None:
        super().__init__(conn)
        self.encode = encode

    def marketplaces(self, account_id: int) -> tuple[str, ...]:
        found = self.conn.execute(
            select(_A.c.marketplace_ids).where(_A.c.id == account_id)
        ).scalar_one_or_none()
        return tuple(found or ())

    def recorded_keys(self, account_id: int, keys: Sequence[str]) -> frozenset[str]:
        if not keys:
            return frozenset()
        given = bindparam("p_keys", list(keys), type_=ARRAY(R.c.amazon_key.type))
        found = self.conn.execute(
            select(R.c.amazon_key).where(
                R.c.account_id == account_id, R.c.amazon_key == any_(given)
            )
        ).scalars()
        return frozenset(str(key) for key in found)

    def paired(self, account_id: int, amazon_order_id: str) -> frozenset[int]:
        found = self.conn.execute(
            select(R.c.id).where(
                R.c.account_id == account_id,
                R.c.amazon_order_id == amazon_order_id,
                R.c.source == RefundSource.STORE.value,
                R.c.amazon_key.is_not(None),
            )
        ).scalars()
        return frozenset(int(i) for i in found)

    def pair(self, refund_id: int, amazon_key: str) -> bool:
        other = R.alias("other")
        taken = (
            select(other.c.id)
            .where(other.c.account_id == R.c.account_id, other.c.amazon_key == amazon_key)
            .exists()
        )
        done = self.conn.execute(
            update(R)
            .where(R.c.id == refund_id, R.c.amazon_key.is_(None), ~taken)
            .values(amazon_key=amazon_key, updated_at=func.now())
            .returning(R.c.id)
        ).first()
        return done is not None

    def record_from_amazon(self, refund: Refund, found: AmazonRefund) -> Refund | None:
        order_id = self.conn.execute(
            select(_O.c.id).where(
                _O.c.account_id == refund.account_id,
                _O.c.amazon_order_id == refund.amazon_order_id,
            )
        ).scalar_one_or_none()
        row = self.conn.execute(
            upsert(R)
            .values(**refund_values(refund, order_id=order_id, amazon_key=found.key))
            .on_conflict_do_nothing(index_elements=[R.c.account_id, R.c.amazon_key])
            .returning(*R.c)
        ).first()
        if row is None:
            return None
        lines = []
        if refund.lines:
            values = lines_values(row.id, refund.lines)
            for value, item in zip(values, found.items, strict=True):
                value["amazon_adjustment_item_id"] = item.adjustment_item_id
            lines = list(
                self.conn.execute(insert(L).returning(*L.c, sort_by_parameter_order=True), values)
            )
        stored = refund_of(row, lines)
        outbox.append(self.conn, [RefundRecordedFromAmazon(stored)], self.encode)
        return stored

    def fail(self, refund_id: int, code: str, message: str) -> Refund | None:
        done = self.conn.execute(
            update(R)
            .where(R.c.id == refund_id, in_states(R.c.state, FAIL_FROM))
            .values(
                state=RefundState.FAILED.value,
                failure_code=code[:100],
                failure_reason=message,
                last_error=message,
                next_attempt_at=None,
                failed_at=func.now(),
                updated_at=func.now(),
            )
            .returning(R.c.id)
        ).first()
        if done is None:
            return None
        failed = load_one(self.conn, refund_id)
        assert failed is not None
        outbox.append(self.conn, [failed_event(failed, code, message)], self.encode)
        return failed


class AmazonRefundsMixin(StoreBase):
    """``domain.refunds.ports.AmazonRefundStore``."""

    @contextmanager
    def recording(self) -> Iterator[SqlAmazonRefundUnit]:
        with self.engine.begin() as conn:
            yield SqlAmazonRefundUnit(conn, self.encode)

    def finance_cursor(self, account_id: int) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(_C.c.posted_after).where(_C.c.account_id == account_id)
            ).scalar_one_or_none()

    def finance_coverage(self, account_id: int) -> tuple[datetime, datetime] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_C.c.covered_since, _C.c.posted_after).where(_C.c.account_id == account_id)
            ).first()
        if row is None or row.covered_since is None:
            return None
        return row.covered_since, row.posted_after

    def save_finance_cursor(
        self, account_id: int, posted_after: datetime, covered_since: datetime | None = None
    ) -> None:
        statement = upsert(_C).values(
            account_id=account_id, posted_after=posted_after, covered_since=covered_since
        )
        with self.engine.begin() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[_C.c.account_id],
                    # Only forward: a slower sweep that ends last does not move it back.
                    set_={
                        "posted_after": func.greatest(
                            _C.c.posted_after, statement.excluded.posted_after
                        ),
                        "updated_at": func.now(),
                    },
                )
            )

    def sweep_accounts(self) -> list[int]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(_A.c.id).where(reaches_amazon(_A)).order_by(_A.c.id)
            ).scalars()
            return [int(i) for i in found]
