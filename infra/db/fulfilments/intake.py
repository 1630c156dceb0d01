"""Intake: a fulfilment checked and stored under its order's lock, one transaction per request,
and the API's variant that keeps the request's idempotency key in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Connection, func, update

from domain.fulfilments import Fulfilment, NewFulfilment, OrderSnapshot, PackageLine
from domain.shared import row_id
from infra.db.fulfilments.base import StoreBase
from infra.db.fulfilments.rows import fulfilment_of, fulfilments_of, items_of, load_one
from infra.db.fulfilments.statements import (
    ACCOUNT_BY_ID,
    ACCOUNT_BY_NAME,
    ADD,
    LOAD_BY_PLATFORM_ID,
    LOCK_ORDER,
    F,
)
from infra.db.fulfilments.transitions import REOPEN, in_states
from infra.db.idempotency import KeyedTransaction, keyed


class SqlIntakeUnit:
    """``domain.fulfilments.IntakeUnit``: one transaction of ``SqlFulfilmentStore.intake``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def account_id(self, ref: str) -> int | None:
        account_id = row_id(ref)
        if account_id is not None:
            found = ACCOUNT_BY_ID.scalar(self.conn, {"p_id": account_id})
        else:
            found = ACCOUNT_BY_NAME.scalar(self.conn, {"p_name": ref})
        return int(found) if found is not None else None

    def lock_order(self, account_id: int, amazon_order_id: str) -> OrderSnapshot | None:
        order = LOCK_ORDER.first(
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
            items=items_of(self.conn, [order.id]).get(order.id, ()),
        )

    def fulfilment_by_platform_id(
        self, account_id: int, platform_fulfilment_id: str
    ) -> Fulfilment | None:
        found = fulfilments_of(
            LOAD_BY_PLATFORM_ID.all(
                self.conn,
                {"p_account_id": account_id, "p_platform_fulfilment_id": platform_fulfilment_id},
            )
        )
        return found[0] if found else None

    def fulfilment(self, fulfilment_id: int) -> Fulfilment | None:
        return load_one(self.conn, fulfilment_id)

    def add(self, new: NewFulfilment) -> Fulfilment | None:
        command = new.command
        # The stored row and lines come back from RETURNING (values as PostgreSQL keeps them,
        # e.g. times in UTC), so the new fulfilment is not read again; the order's fields come
        # from the snapshot locked in this transaction.
        rows = ADD.all(
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
        return fulfilment_of(
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
            update(F)
            .where(F.c.id == fulfilment_id, in_states(F.c.state, REOPEN.sources))
            .values(
                state=REOPEN.target.value,
                attempts=0,
                lease_owner=None,
                lease_until=None,
                failure_code=None,
                failure_reason=None,
                failed_at=None,
                next_attempt_at=func.now() + sweep_after,
                updated_at=func.now(),
            )
            .returning(F.c.id)
        ).scalar_one_or_none()
        return load_one(self.conn, fulfilment_id) if reopened is not None else None


class KeyedIntake(KeyedTransaction):
    """``SqlFulfilmentStore.keyed_intake``'s transaction: the key's claim, an ``IntakeStore``
    whose units run in this same transaction, and the answer to keep with the key."""

    @contextmanager
    def intake(self) -> Iterator[SqlIntakeUnit]:
        yield SqlIntakeUnit(self.conn)


class IntakeMixin(StoreBase):
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
        with keyed(self.engine, scope, key, request_hash, KeyedIntake) as keyed_intake:
            yield keyed_intake
