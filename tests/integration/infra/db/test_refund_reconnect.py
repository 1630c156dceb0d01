"""Reconnecting on PostgreSQL: refunds taken in while the account was disconnected are held,
reconnecting makes them wait for approval (none is sent by itself), a refund of an order that
shipped meanwhile is never approved with the safe ones, and a rejection fails it with its
event; each step run twice is once."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from domain.orders import LineCharges
from domain.refunds import (
    Accepted,
    Component,
    IssueRefund,
    RefundLineRequest,
    RefundState,
    accept_refund,
)
from domain.refunds.reconnect import Verdict, approve, reconnect_plan
from infra.db.accounts import set_connected
from infra.db.refunds import SqlRefundStore
from infra.db.tables import OrderItem, OutboxEvent, SyncCursor
from tests.fakes import FixedClock
from tests.fakes.refund_store import encode
from tests.integration.infra.db.seed import amazon_order, seed_account, seed_order

pytestmark = pytest.mark.integration

CHARGES = LineCharges("USD", principal=Decimal("29.97"), tax=Decimal("2.40"))


@pytest.fixture
def store(clean_db: Engine, session_factory: sessionmaker[Session]) -> SqlRefundStore:
    account_id = seed_account(session_factory)
    for n in (1, 2):
        order = amazon_order(n)
        lines = (replace(order.lines[0], charges=CHARGES), *order.lines[1:])
        seed_order(clean_db, session_factory, account_id, replace(order, lines=lines))
    return SqlRefundStore(clean_db, session_factory, encode)


def refund(store: SqlRefundStore, n: int) -> int:
    order = amazon_order(n)
    command = IssueRefund(
        account="acme",
        amazon_order_id=order.amazon_order_id,
        platform_refund_id=f"R-{n}",
        reason="customer_return",
        lines=(
            RefundLineRequest(
                order_item_id=order.lines[0].order_item_id,
                amounts=((Component.ITEM_PRICE, Decimal("9.99")),),
            ),
        ),
    )
    result = accept_refund(command, store, FixedClock())
    assert isinstance(result, Accepted), result
    return result.refund.id


def sync_caught_up(engine: Engine, account_id: int) -> None:
    """The sync has read Amazon's changes up to after the reconnect (its watermark is later)."""
    with engine.begin() as conn:
        conn.execute(
            update(SyncCursor)
            .where(SyncCursor.account_id == account_id, SyncCursor.scope == "orders")
            .values(watermark=func.now())
        )


def test_held_refunds_wait_for_approval_and_a_shipped_orders_refund_is_never_safe(
    store: SqlRefundStore, clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    set_connected(session_factory, "acme", False)
    first, second = refund(store, 1), refund(store, 2)
    assert {store.get(i).state for i in (first, second)} == {RefundState.HELD}  # type: ignore[union-attr]
    # While disconnected the second order shipped (the sync catches it up on reconnecting).
    with clean_db.begin() as conn:
        conn.execute(
            update(OrderItem)
            .where(OrderItem.order_item_id == amazon_order(2).lines[0].order_item_id)
            .values(quantity_shipped=OrderItem.quantity_ordered)
        )
    account_id = store.get(first).account_id  # type: ignore[union-attr]
    set_connected(session_factory, "acme", True)
    assert store.hold_for_approval(account_id) == 2
    assert store.hold_for_approval(account_id) == 0
    plan = reconnect_plan(account_id, True, store)
    # Before the sync has caught up nothing is safe: the first order may have shipped too.
    assert {item.verdict for item in plan.items} == {Verdict.NEEDS_APPROVAL}
    assert approve(account_id, store, all_safe=True).approved == ()
    sync_caught_up(clean_db, account_id)
    plan = reconnect_plan(account_id, True, store)
    verdicts = {item.refund.id: item.verdict for item in plan.items}
    assert verdicts == {first: Verdict.SAFE, second: Verdict.NEEDS_APPROVAL}

    done = approve(account_id, store, all_safe=True)
    assert done.approved == (first,)
    assert store.get(first).state is RefundState.ACCEPTED  # type: ignore[union-attr]
    assert store.get(second).state is RefundState.AWAITING_APPROVAL  # type: ignore[union-attr]
    assert approve(account_id, store, all_safe=True).approved == ()

    rejected = approve(account_id, store, reject_ids=[second])
    assert rejected.rejected == (second,)
    assert store.get(second).state is RefundState.FAILED  # type: ignore[union-attr]
    with clean_db.connect() as conn:
        topics = conn.execute(select(OutboxEvent.topic)).scalars().all()
    assert topics.count("refunds/failed") == 1


def test_a_refund_is_approved_one_by_one_on_purpose_and_unknown_ids_are_named(
    store: SqlRefundStore, clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    set_connected(session_factory, "acme", False)
    held = refund(store, 1)
    account_id = store.get(held).account_id  # type: ignore[union-attr]
    early = approve(account_id, store, refund_ids=[held])
    assert early.approved == () and "reconnect the account first" in early.refused[0][1]
    set_connected(session_factory, "acme", True)
    store.hold_for_approval(account_id)
    done = approve(account_id, store, refund_ids=[held, 999])
    assert done.approved == (held,)
    assert done.refused == ((999, "not held or awaiting approval for this account"),)
