"""The refund store on PostgreSQL: an order's charges written by the sync and read back, a refund
and its lines as rows and back, intake run twice (one row), concurrent refunds of one order
(never past the charge), the API's keyed intake (key and refund committed together or not at
all), and a refused queue request's event in the outbox."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from domain.orders import AmazonOrder, LineCharges
from domain.refunds import (
    Accepted,
    Component,
    IssueRefund,
    Refund,
    RefundKind,
    RefundLine,
    RefundLineRequest,
    RefundSource,
    RefundState,
    accept_refund,
)
from domain.shared import FieldError, Money, Rejected
from infra.db.idempotency import KeyStatus
from infra.db.refunds import SqlRefundStore, rows
from infra.db.tables import IdempotencyKey, Order, OrderItem, OutboxEvent, RejectedRefund
from infra.db.tables import Refund as RefundRow
from infra.db.tables import RefundLine as RefundLineRow
from tests.fakes import FixedClock
from tests.fakes.refund_store import encode
from tests.integration.infra.db.seed import amazon_order, seed_account, seed_order

pytestmark = pytest.mark.integration

CHARGES = LineCharges(
    "USD",
    principal=Decimal("29.97"),
    shipping=Decimal("4.99"),
    tax=Decimal("2.40"),
    shipping_tax=Decimal("0.40"),
)


def test_the_sync_writes_each_items_charges_and_the_order_reads_back_with_them(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    account_id = seed_account(session_factory)
    order = amazon_order(1)
    order = replace(order, lines=(replace(order.lines[0], charges=CHARGES), order.lines[1]))
    seed_order(clean_db, session_factory, account_id, order)
    with clean_db.connect() as conn:
        row = conn.execute(select(Order).where(Order.amazon_order_id == order.amazon_order_id))
        loaded = rows.load_order(conn, row.one())
        charged = conn.execute(
            select(
                OrderItem.order_item_id, OrderItem.charged_principal, OrderItem.charged_tax
            ).order_by(OrderItem.id)
        ).all()
    assert [line.charges for line in loaded.lines] == [CHARGES, None]
    assert charged == [
        (order.lines[0].order_item_id, Decimal("29.97"), Decimal("2.40")),
        (order.lines[1].order_item_id, None, None),
    ]
    assert loaded.lines[0].quantity_ordered == 3 and loaded.lines[0].sku == "MUG-RED"


def test_a_refund_and_its_lines_go_to_rows_and_back_unchanged(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    account_id = seed_account(session_factory)
    seed_order(clean_db, session_factory, account_id, amazon_order(1))
    usd = "USD"
    refund = Refund(
        id=0,
        kind=RefundKind.REFUND,
        source=RefundSource.STORE,
        account_id=account_id,
        amazon_order_id=amazon_order(1).amazon_order_id,
        marketplace_id="ATVPDKIKX0DER",
        platform_id="R-1",
        reason="CustomerReturn",
        currency=usd,
        state=RefundState.ACCEPTED,
        lines=(
            RefundLine(
                0,
                "0000001-A",
                "MUG-RED",
                (
                    (Component.ITEM_PRICE, Money(Decimal("9.99"), usd)),
                    (Component.TAX, Money(Decimal("0.80"), usd)),
                    (Component.RESTOCKING_FEE, Money(Decimal("1.00"), usd)),
                ),
                quantity=1,
            ),
            RefundLine(0, "0000001-B", None, ((Component.GOODWILL, Money(Decimal(2), usd)),)),
        ),
        fingerprint="f" * 64,
        created_at=datetime.now(UTC),
    )
    with clean_db.begin() as conn:
        refund_id = conn.execute(
            insert(rows.R).values(rows.refund_values(refund, order_id=None)).returning(rows.R.c.id)
        ).scalar_one()
        conn.execute(insert(rows.L), rows.lines_values(refund_id, refund.lines))
    with clean_db.connect() as conn:
        loaded = rows.load_one(conn, refund_id)
        assert rows.load_one(conn, refund_id + 1) is None
    assert loaded is not None
    assert loaded.id == refund_id and all(line.id > 0 for line in loaded.lines)
    plain = replace(
        loaded,
        id=0,
        created_at=refund.created_at,
        lines=tuple(replace(line, id=0) for line in loaded.lines),
    )
    assert plain == refund
    assert loaded.total == Money(Decimal("11.79"), usd)


def charged(n: int) -> AmazonOrder:
    """Order ``n`` with its first line (3 units) charged 29.97 + 4.99 shipping + 2.40 + 0.40."""
    order = amazon_order(n)
    return replace(order, lines=(replace(order.lines[0], charges=CHARGES), order.lines[1]))


def price_refund(n: int, platform_id: str, amount: str) -> IssueRefund:
    return IssueRefund(
        account="acme",
        amazon_order_id=charged(n).amazon_order_id,
        platform_refund_id=platform_id,
        reason="CustomerReturn",
        lines=(
            RefundLineRequest(
                order_item_id=f"{n:07d}-A", amounts=((Component.ITEM_PRICE, Decimal(amount)),)
            ),
        ),
    )


def count(engine: Engine, table: type[object]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_intake_run_twice_stores_one_refund(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    account_id = seed_account(session_factory)
    seed_order(clean_db, session_factory, account_id, charged(1))
    store = SqlRefundStore(clean_db, session_factory, encode)
    command = IssueRefund(
        account="acme",
        amazon_order_id=charged(1).amazon_order_id,
        platform_refund_id="R-1",
        reason="customer_return",
        lines=(RefundLineRequest(order_item_id="0000001-A", quantity=2),),
    )
    first = accept_refund(command, store, FixedClock())
    second = accept_refund(command, store, FixedClock())
    assert isinstance(first, Accepted) and first.created
    assert isinstance(second, Accepted) and not second.created
    assert second.refund == first.refund
    assert count(clean_db, RefundRow) == 1 and count(clean_db, RefundLineRow) == 1
    assert {c: str(m.amount) for c, m in first.refund.lines[0].amounts} == {
        Component.ITEM_PRICE: "19.98",
        Component.SHIPPING: "3.33",
        Component.TAX: "1.60",
        Component.SHIPPING_TAX: "0.27",
    }
    with clean_db.connect() as conn:
        order_id = conn.execute(select(RefundRow.order_id)).scalar_one()
        assert order_id == conn.execute(select(Order.id)).scalar_one()


def race(
    store: SqlRefundStore, commands: list[IssueRefund]
) -> tuple[list[Accepted | Rejected], list[BaseException]]:
    """Each command on a thread of its own, released together."""
    barrier = threading.Barrier(len(commands))
    results: list[Accepted | Rejected] = []
    failures: list[BaseException] = []

    def run(command: IssueRefund) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(accept_refund(command, store, FixedClock()))
        except BaseException as exc:  # the test fails with it
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(command,)) for command in commands]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, failures


def test_concurrent_refunds_of_one_order_never_give_back_more_than_it_charged(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    account_id = seed_account(session_factory)
    store = SqlRefundStore(clean_db, session_factory, encode)
    rounds = 8
    for n in range(1, rounds + 1):
        seed_order(clean_db, session_factory, account_id, charged(n))
    for n in range(1, rounds + 1):
        # 20.00 each of the line's 29.97, at once: only one of the two fits
        results, failures = race(store, [price_refund(n, f"R-{n}-{t}", "20.00") for t in (1, 2)])
        assert not failures, failures
        assert sorted(type(r).__name__ for r in results) == ["Accepted", "Rejected"], results
        refused = next(r for r in results if isinstance(r, Rejected))
        assert refused.errors[0].field == "lines[0].amounts.item_price"
        assert "9.97 USD left (charged 29.97 USD, refunded before 20.00 USD)" in (
            refused.errors[0].reason
        )
    with clean_db.connect() as conn:
        given = conn.execute(
            select(RefundLineRow.order_item_id, func.sum(RefundLineRow.item_price)).group_by(
                RefundLineRow.order_item_id
            )
        ).all()
    assert len(given) == rounds and all(total == Decimal("20.00") for _, total in given)


def test_the_keyed_intake_keeps_the_key_and_the_refund_together_or_neither(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    account_id = seed_account(session_factory)
    seed_order(clean_db, session_factory, account_id, charged(1))
    store = SqlRefundStore(clean_db, session_factory, encode)
    with store.keyed_intake("refunds", "key-1", "hash-1") as keyed:
        assert keyed.claim.status is KeyStatus.NEW
        result = accept_refund(price_refund(1, "R-1", "5.00"), keyed, FixedClock())
        assert isinstance(result, Accepted)
        # not answered (a crash, a refusal): nothing is kept
    assert count(clean_db, RefundRow) == 0 and count(clean_db, IdempotencyKey) == 0
    with store.keyed_intake("refunds", "key-1", "hash-1") as keyed:
        result = accept_refund(price_refund(1, "R-1", "5.00"), keyed, FixedClock())
        assert isinstance(result, Accepted)
        keyed.answer(201, {"refund_id": result.refund.id})
    assert count(clean_db, RefundRow) == 1 and count(clean_db, IdempotencyKey) == 1
    with store.keyed_intake("refunds", "key-1", "hash-1") as keyed:
        assert keyed.claim.status is KeyStatus.REPLAY
        assert keyed.claim.response_body == {"refund_id": result.refund.id}


def test_a_refused_queue_request_is_kept_with_its_event_in_the_outbox(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    seed_account(session_factory)
    store = SqlRefundStore(clean_db, session_factory, encode)
    request = {"account": "acme", "amazon_order_id": "113-1", "platform_cancellation_id": "C-1"}
    rejected = Rejected((FieldError("reason", "unknown reason 'whim'"),))
    assert store.record_rejection(RefundKind.CANCELLATION, request, rejected)
    assert not store.record_rejection(RefundKind.CANCELLATION, request, rejected)
    with clean_db.connect() as conn:
        seen, errors = conn.execute(select(RejectedRefund.times_seen, RejectedRefund.errors)).one()
        topic, payload = conn.execute(select(OutboxEvent.topic, OutboxEvent.payload)).one()
    assert seen == 2 and errors == [{"field": "reason", "reason": "unknown reason 'whim'"}]
    body = payload if isinstance(payload, dict) else json.loads(payload)
    assert topic == "cancellations/failed"
    assert body["platform_id"] == "C-1" and body["code"] == "InvalidRequest"
    assert store.rejections()[0]["times_seen"] == 2
