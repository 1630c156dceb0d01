"""The refund store on PostgreSQL: an order's charges written by the sync and read back, a refund
and its lines as rows and back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from domain.orders import LineCharges
from domain.refunds import Component, Refund, RefundKind, RefundLine, RefundSource, RefundState
from domain.shared import Money
from infra.db.refunds import rows
from infra.db.tables import Order, OrderItem
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
