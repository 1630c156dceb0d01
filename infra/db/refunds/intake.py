"""Intake: a refund or cancellation checked and stored under its order's lock, one transaction
per request, and the API's variant that keeps the request's idempotency key in the same
transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, insert

from domain.orders import AmazonOrder
from domain.refunds import Refund, RefundKind
from domain.shared import row_id
from infra.db.idempotency import KeyedTransaction, keyed
from infra.db.refunds.base import StoreBase
from infra.db.refunds.rows import L, lines_values, load_one, load_order, refund_of, with_lines
from infra.db.refunds.statements import (
    ACCOUNT_BY_ID,
    ACCOUNT_BY_NAME,
    ACCOUNT_CONNECTED,
    ADD,
    BY_PLATFORM_ID,
    LOCK_ORDER,
    REFUNDED,
    REOPEN,
)


class SqlRefundIntakeUnit:
    """``domain.refunds.RefundIntakeUnit``: one transaction of ``SqlRefundStore.intake``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def account_id(self, ref: str) -> int | None:
        account_id = row_id(ref)
        if account_id is not None:
            found = ACCOUNT_BY_ID.scalar(self.conn, {"p_id": account_id})
        else:
            found = ACCOUNT_BY_NAME.scalar(self.conn, {"p_name": ref})
        return int(found) if found is not None else None

    def account_connected(self, account_id: int) -> bool:
        return bool(ACCOUNT_CONNECTED.scalar(self.conn, {"p_id": account_id}))

    def lock_order(self, account_id: int, amazon_order_id: str) -> AmazonOrder | None:
        order = LOCK_ORDER.first(
            self.conn, {"p_account_id": account_id, "p_amazon_order_id": amazon_order_id}
        )
        return load_order(self.conn, order) if order is not None else None

    def refunded(self, account_id: int, amazon_order_id: str) -> list[Refund]:
        found = REFUNDED.all(
            self.conn, {"p_account_id": account_id, "p_amazon_order_id": amazon_order_id}
        )
        return with_lines(self.conn, found)

    def by_platform_id(self, account_id: int, kind: RefundKind, platform_id: str) -> Refund | None:
        found = BY_PLATFORM_ID.first(
            self.conn,
            {"p_account_id": account_id, "p_kind": kind.value, "p_platform_id": platform_id},
        )
        return with_lines(self.conn, [found])[0] if found is not None else None

    def refund(self, refund_id: int) -> Refund | None:
        return load_one(self.conn, refund_id)

    def add(self, refund: Refund) -> Refund | None:
        # The stored row and lines come back from RETURNING (values as PostgreSQL keeps them),
        # so the new refund is not read again.
        row = ADD.first(
            self.conn,
            {
                "p_kind": refund.kind.value,
                "p_source": refund.source.value,
                "p_account_id": refund.account_id,
                "p_amazon_order_id": refund.amazon_order_id,
                "p_marketplace_id": refund.marketplace_id,
                "p_platform_id": refund.platform_id,
                "p_fingerprint": refund.fingerprint or None,
                "p_reason": refund.reason,
                "p_currency": refund.currency,
                "p_whole_order": refund.whole_order,
                "p_state": refund.state.value,
            },
        )
        if row is None:
            return None
        lines = []
        if refund.lines:
            lines = list(
                self.conn.execute(
                    insert(L).returning(*L.c, sort_by_parameter_order=True),
                    lines_values(row.id, refund.lines),
                )
            )
        return refund_of(row, lines)

    def reopen(self, refund_id: int) -> Refund | None:
        if REOPEN.scalar(self.conn, {"p_id": refund_id}) is None:
            return None
        return load_one(self.conn, refund_id)


class KeyedRefundIntake(KeyedTransaction):
    """``SqlRefundStore.keyed_intake``'s transaction: the key's claim, a ``RefundIntakeStore``
    whose units run in this same transaction, and the answer to keep with the key."""

    @contextmanager
    def intake(self) -> Iterator[SqlRefundIntakeUnit]:
        yield SqlRefundIntakeUnit(self.conn)


class IntakeMixin(StoreBase):
    @contextmanager
    def intake(self) -> Iterator[SqlRefundIntakeUnit]:
        with self.engine.begin() as conn:
            yield SqlRefundIntakeUnit(conn)

    @contextmanager
    def keyed_intake(self, scope: str, key: str, request_hash: str) -> Iterator[KeyedRefundIntake]:
        """An API request's idempotency key and its intake in one transaction: committed (key,
        refund and the answer together) when ``answer`` was called, rolled back otherwise, so
        a refused or crashed request leaves nothing behind. A second request with the same key
        waits on the key's row until the first one's transaction ends."""
        with keyed(self.engine, scope, key, request_hash, KeyedRefundIntake) as keyed_intake:
            yield keyed_intake
