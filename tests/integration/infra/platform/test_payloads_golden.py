"""Webhook bodies stay byte for byte what the platform receives today: every topic, produced by
the stores on PostgreSQL, compared with the JSON text recorded in ``payloads_golden.json``.

The relay embeds the stored JSON text unparsed (``e.payload::text``) in the signed envelope, so
equal text here is an equal body on the wire. Ids are deterministic (the tables are emptied with
their sequences) and every time is fixed, so the recording holds run after run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from domain.fulfilments import (
    Accepted,
    DeadlineAlert,
    DeadlineKind,
    ReadBack,
    accept_fulfilment,
)
from domain.ingestion import Cursor
from domain.orders import AmazonOrder, FulfilledBy, OrderLine, OrderStatus
from domain.refunds import (
    CancellationConfirmed,
    CancellationFailed,
    Component,
    Refund,
    RefundConfirmed,
    RefundEvent,
    RefundFailed,
    RefundKind,
    RefundLine,
    RefundRecordedFromAmazon,
    RefundSource,
    RefundState,
)
from domain.shared import Money, Rejected
from infra.db import outbox
from infra.db.accounts import add_account
from infra.db.fulfilments import SqlFulfilmentStore
from infra.db.ingestion import SqlIngestionStore
from infra.db.refunds import SqlRefundStore
from infra.platform import payloads
from tests.fakes import FixedClock
from workers.doors.fulfilments import read_request, take_in
from workers.doors.refunds.intake import take_in as take_in_refund

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).with_name("payloads_golden.json")
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MARKETPLACE = "ATVPDKIKX0DER"


def rich_order(n: int, **changes: Any) -> AmazonOrder:
    """An order with every field the payload carries set (nulls come from ``pending_order``)."""
    order = AmazonOrder(
        amazon_order_id=f"113-{n:07d}-0000001",
        marketplace_id=MARKETPLACE,
        status=OrderStatus.UNSHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        purchased_at=NOW - timedelta(days=2),
        last_updated_at=NOW - timedelta(days=1),
        lines=(
            OrderLine(
                f"{n:07d}-A",
                3,
                0,
                sku="MUG-RED",
                asin="B000000001",
                title="Red mug",
                unit_price=Money(Decimal("9.99"), "USD"),
            ),
            OrderLine(
                f"{n:07d}-B",
                1,
                0,
                sku="MUG-BLUE",
                unit_price=Money(Decimal("5.00"), "USD"),
                cancel_requested=True,
                cancel_reason='Änderung: ordered by mistake "twice"',
            ),
        ),
        total=Money(Decimal("34.97"), "USD"),
        ship_by_earliest=NOW - timedelta(hours=1),
        ship_by_latest=NOW + timedelta(days=2),
        deliver_by_earliest=NOW + timedelta(days=3),
        deliver_by_latest=NOW + timedelta(days=5),
        service_level="Std US D2D Dom",
        is_business=True,
        is_prime=True,
        is_replacement=True,
        replaced_order_id="113-9999999-0000001",
    )
    return replace(order, **changes)


def pending_order(n: int) -> AmazonOrder:
    return AmazonOrder(
        amazon_order_id=f"113-{n:07d}-0000001",
        marketplace_id=MARKETPLACE,
        status=OrderStatus.PENDING,
        fulfilled_by=FulfilledBy.AMAZON,
        purchased_at=NOW - timedelta(hours=3),
        last_updated_at=NOW - timedelta(hours=2),
        lines=(OrderLine(f"{n:07d}-A", 1, 0),),
        has_buyer_data=False,
    )


def request(order: AmazonOrder, platform_id: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": order.amazon_order_id,
        "platform_fulfilment_id": platform_id,
        "shipped_at": "2026-11-01T10:30:00+01:00",
        "carrier_code": "Other",
        "carrier_name": "Speedy Parcels",
        "shipping_method": "Ground",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"sku": "MUG-RED", "quantity": 2}],
        "cancellation_request_reviewed": True,
    }
    data.update(changes)
    return data


def produce_every_topic(engine: Engine, sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(NOW)
    account_id = add_account(
        sessions,
        name="acme",
        selling_partner_id="SELLER-acme",
        region="SANDBOX",
        marketplace_ids=[MARKETPLACE],
        refresh_token="Atzr|test",
    ).id
    orders = SqlIngestionStore(engine, sessions, payloads.encode)
    fulfilments = SqlFulfilmentStore(engine, sessions, payloads.encode)

    # orders/created (a full one and one with its nulls), orders/updated, orders/cancelled
    first = rich_order(1)
    orders.save_page(account_id, "orders", [first, pending_order(2)], [], Cursor())
    shipped_some = replace(
        first,
        status=OrderStatus.PARTIALLY_SHIPPED,
        last_updated_at=NOW - timedelta(hours=20),
        lines=(replace(first.lines[0], quantity_shipped=1), first.lines[1]),
    )
    orders.save_page(account_id, "orders", [shipped_some], [], Cursor())
    cancelled = replace(
        shipped_some, status=OrderStatus.CANCELLED, last_updated_at=NOW - timedelta(hours=19)
    )
    orders.save_page(account_id, "orders", [cancelled], [], Cursor())

    # fulfilments/confirmed with Amazon's order read back (and its orders/updated)
    third = rich_order(3)
    orders.save_page(account_id, "orders", [third], [], Cursor())
    result = accept_fulfilment(read_request(request(third, "F-1")), fulfilments, clock)
    assert isinstance(result, Accepted), result
    claimed = fulfilments.claim(result.fulfilment.id, "task-1", timedelta(minutes=6))
    assert claimed is not None
    read = replace(
        third,
        status=OrderStatus.PARTIALLY_SHIPPED,
        last_updated_at=NOW - timedelta(hours=1),
        lines=(replace(third.lines[0], quantity_shipped=2), third.lines[1]),
    )
    back = ReadBack(order=read, package_status="SHIPPED", package_listed=True)
    assert fulfilments.record_confirmed(claimed, "task-1", back)

    # fulfilments/confirmed with the read-back put off (read_deferred)
    result = accept_fulfilment(
        read_request(request(third, "F-2", carrier_code="ups", lines=None)), fulfilments, clock
    )
    assert isinstance(result, Accepted), result
    claimed = fulfilments.claim(result.fulfilment.id, "task-2", timedelta(minutes=6))
    assert claimed is not None
    put_off = ReadBack(error="RateLimitTimeout", deferred=True, retry_after=timedelta(seconds=2))
    assert fulfilments.record_confirmed(claimed, "task-2", put_off)

    # fulfilments/failed from Amazon
    fourth = rich_order(4)
    orders.save_page(account_id, "orders", [fourth], [], Cursor())
    result = accept_fulfilment(read_request(request(fourth, "F-3")), fulfilments, clock)
    assert isinstance(result, Accepted), result
    assert fulfilments.claim(result.fulfilment.id, "task-3", timedelta(minutes=6)) is not None
    assert fulfilments.record_failed(
        result.fulfilment.id, "task-3", "InvalidInput", "The tracking number is not valid"
    )

    # fulfilments/failed from refused queue messages: invalid, a conflict, an unknown account
    message = {"version": 1, "type": "fulfilment.requested"}
    take_in(
        {**message, **request(fourth, "F-4", carrier_code="", lines=[{"sku": "X"}])},
        fulfilments,
        clock,
    )
    take_in({**message, **request(fourth, "F-3", tracking_number="OTHER")}, fulfilments, clock)
    take_in({**message, **request(fourth, "F-5", account="nobody")}, fulfilments, clock)

    # orders/ship_by_approaching and orders/ship_by_missed
    soon = rich_order(5, ship_by_latest=NOW + timedelta(hours=3, minutes=30, seconds=20))
    late = rich_order(6, ship_by_latest=NOW - timedelta(minutes=61))
    orders.save_page(account_id, "orders", [soon, late], [], Cursor())
    due = {o.amazon_order_id: o for o in fulfilments.open_orders_due_by(NOW + timedelta(hours=4))}
    alerts = [
        DeadlineAlert(due[soon.amazon_order_id], DeadlineKind.APPROACHING),
        DeadlineAlert(due[late.amazon_order_id], DeadlineKind.MISSED),
    ]
    assert len(fulfilments.record_alerts(alerts, NOW)) == 2

    # refunds/failed and cancellations/failed of refused queue messages: invalid, refused by
    # the rules (no such order), an unknown account
    refunds = SqlRefundStore(engine, sessions, payloads.encode)
    refund_message = {
        "version": 1,
        "type": "refund.requested",
        "account": "acme",
        "amazon_order_id": fourth.amazon_order_id,
        "platform_refund_id": "R-9",
        "reason": "customer_return",
        "lines": [{"sku": "MUG-RED", "amounts": {"item_price": "1.999", "tax": "1"}}],
    }
    cancel_message = {
        "version": 1,
        "type": "cancellation.requested",
        "account": "acme",
        "amazon_order_id": "113-0000404-0000001",
        "platform_cancellation_id": "C-9",
        "reason": "buyer_canceled",
        "currency": "USD",
    }
    assert isinstance(take_in_refund(refund_message, refunds, clock), Rejected)
    assert isinstance(take_in_refund(cancel_message, refunds, clock), Rejected)
    unknown = {**cancel_message, "account": "nobody", "amazon_order_id": first.amazon_order_id}
    assert isinstance(take_in_refund(unknown, refunds, clock), Rejected)

    # refunds/confirmed, refunds/failed, refunds/recorded_from_amazon, cancellations/confirmed
    # (of a RefundConfirmed of a cancellation, and of a CancellationConfirmed), cancellations/failed
    with engine.begin() as conn:
        outbox.append(conn, refund_events(), payloads.encode)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def a_refund(n: int, **changes: Any) -> Refund:
    """A refund with a line of amounts (a restocking fee kept back) and a line by quantity, as
    the store reads them back (its column keeps 4 decimal places)."""
    refund = Refund(
        id=n,
        kind=RefundKind.REFUND,
        source=RefundSource.STORE,
        account_id=1,
        amazon_order_id=f"113-{n:07d}-0000001",
        marketplace_id=MARKETPLACE,
        platform_id=f"R-{n}",
        reason="CustomerReturn",
        currency="USD",
        state=RefundState.CONFIRMED,
        lines=(
            RefundLine(
                id=10 * n + 1,
                order_item_id=f"{n:07d}-A",
                sku="MUG-RED",
                amounts=(
                    (Component.ITEM_PRICE, usd("19.9900")),
                    (Component.TAX, usd("1.6000")),
                    (Component.RESTOCKING_FEE, usd("2.0000")),
                ),
            ),
            RefundLine(
                id=10 * n + 2,
                order_item_id=f"{n:07d}-B",
                sku=None,
                amounts=((Component.ITEM_PRICE, usd("5.0000")),),
                quantity=1,
            ),
        ),
        fingerprint="f" * 64,
        created_at=NOW - timedelta(hours=2),
        attempts=1,
        confirmed_at=NOW - timedelta(minutes=30),
    )
    return replace(refund, **changes)


def refund_events() -> list[RefundEvent]:
    """Every refund and cancellation topic, from the events the refund feature records."""
    failed = a_refund(
        2, state=RefundState.FAILED, confirmed_at=None, failure_code="25", failure_reason="x"
    )
    from_amazon = a_refund(
        3,
        source=RefundSource.AMAZON,
        platform_id=None,
        reason="Other",
        lines=(a_refund(3).lines[1],),
        posted_at=NOW - timedelta(days=1),
    )
    cancellation = a_refund(
        4,
        kind=RefundKind.CANCELLATION,
        platform_id="C-4",
        reason="BuyerCanceled",
        whole_order=True,
        lines=(replace(a_refund(4).lines[1], quantity=3),),
    )
    cancel_failed = replace(
        cancellation, id=5, platform_id="C-5", state=RefundState.FAILED, whole_order=False
    )
    return [
        RefundConfirmed(refund=a_refund(1)),
        RefundFailed(
            refund=failed, code="25", message='Refund amount exceeds the "order" amount. Ünits'
        ),
        RefundRecordedFromAmazon(refund=from_amazon),
        RefundConfirmed(refund=cancellation),
        CancellationConfirmed(refund=replace(cancellation, id=6, platform_id="C-6")),
        RefundFailed(refund=cancel_failed, code="AlreadyRefunded", message="refunded on Amazon"),
        CancellationFailed(
            refund=replace(cancel_failed, id=7, platform_id="C-7", currency="JPY", lines=()),
            code="18",
            message="The order has shipped",
        ),
    ]


def stored_events(engine: Engine) -> list[dict[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT topic, aggregate_key, payload::text FROM outbox_events ORDER BY id")
        ).all()
    return [{"topic": t, "aggregate_key": k, "payload": p} for t, k, p in rows]


def test_every_topics_payload_is_the_recorded_json_text(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    produce_every_topic(clean_db, session_factory)
    found = stored_events(clean_db)
    expected = json.loads(GOLDEN.read_text())
    assert [e["topic"] for e in found] == [e["topic"] for e in expected]
    for got, want in zip(found, expected, strict=True):
        assert got == want
