"""The ingestion store on PostgreSQL keeps a page whatever one order holds: an order its
columns cannot hold is set aside with the reason and the rest of the page is stored, and a
set-aside order's raw JSON is kept even when it holds what jsonb refuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from domain.ingestion import Cursor, FetchedOrder
from domain.orders import AmazonOrder
from domain.shared import Money
from infra.db.ingestion import SqlIngestionStore
from infra.db.tables import Order, OrderItem, SetAsideOrder
from infra.platform import payloads
from tests.integration.infra.db.seed import amazon_order, seed_account

pytestmark = pytest.mark.integration


def with_line(order: AmazonOrder, **changes: object) -> AmazonOrder:
    return replace(order, lines=(replace(order.lines[0], **changes), *order.lines[1:]))  # type: ignore[arg-type]


def set_aside_rows(engine: Engine) -> dict[str, tuple[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SetAsideOrder.amazon_order_id, SetAsideOrder.reason, SetAsideOrder.raw)
        ).all()
    return {order_id: (reason, raw) for order_id, reason, raw in rows}


def stored_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(Order.amazon_order_id)).scalars())


MISFITS = {
    "marketplace past varchar(20)": (
        lambda o: replace(o, marketplace_id="X" * 21),
        "marketplace_id is longer than the store holds (20 characters)",
    ),
    "NUL in the service level": (
        lambda o: replace(o, service_level="Std\x00"),
        "service_level holds NUL or a lone surrogate",
    ),
    "a lone surrogate in a title": (
        lambda o: with_line(o, title="Mug \ud800"),
        "items[0].title holds NUL or a lone surrogate",
    ),
    "a quantity past int4": (
        lambda o: with_line(o, quantity_ordered=2**31),
        "items[0].quantity_ordered 2147483648 is past what the store holds (2147483647)",
    ),
    "money past numeric(18, 4)": (
        lambda o: replace(o, total=Money(Decimal("1e308"), "USD")),
        "order_total 1E+308 is past what the store holds",
    ),
    "a sku past varchar(100)": (
        lambda o: with_line(o, sku="S" * 101),
        "items[0].sku is longer than the store holds (100 characters)",
    ),
}


def test_an_order_the_columns_cannot_hold_is_set_aside_and_the_page_is_stored(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    account_id = seed_account(session_factory)
    store = SqlIngestionStore(clean_db, session_factory, payloads.encode)
    odd = [spoil(amazon_order(n)) for n, (spoil, _) in enumerate(MISFITS.values(), start=1)]
    good = [amazon_order(100), amazon_order(101)]
    outcome = store.save_page(account_id, "orders", [*odd, *good], [], Cursor())
    assert outcome.created == 2 and outcome.set_aside == len(odd)
    assert stored_ids(clean_db) == {o.amazon_order_id for o in good}
    aside = set_aside_rows(clean_db)
    for order, (_, reason) in zip(odd, MISFITS.values(), strict=True):
        said, raw = aside[order.amazon_order_id]
        assert said.startswith(reason), said
        assert isinstance(raw, dict) and raw["order"]["amazon_order_id"] == order.amazon_order_id
    with clean_db.connect() as conn:
        assert conn.execute(select(OrderItem.id)).all()


def test_raw_json_with_nul_and_lone_surrogates_is_set_aside_as_a_copy_jsonb_takes(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    account_id = seed_account(session_factory)
    store = SqlIngestionStore(clean_db, session_factory, payloads.encode)
    odd = [
        FetchedOrder(
            "113-0000001-0000001",
            {"createdTime": "nul\x00here", "title": "half \ud800", "n": 2**70},
            problem="createdTime 'nul\\x00here' is not an ISO 8601 time",
        ),
        FetchedOrder("113-0000002-\x00" + "9" * 50, {"orderId": "x"}, problem="odd \udc80 id"),
    ]
    outcome = store.save_page(account_id, "orders", [amazon_order(3)], odd, Cursor())
    assert outcome.created == 1 and outcome.set_aside == 2
    aside = set_aside_rows(clean_db)
    reason, raw = aside["113-0000001-0000001"]
    assert reason == "createdTime 'nul\\x00here' is not an ISO 8601 time"
    assert raw == {
        "createdTime": "nul\\u0000here",
        "title": "half \\ud800",
        "n": "(an integer of 71 bits)",
    }
    (long_id,) = (key for key in aside if key.startswith("113-0000002-"))
    assert long_id.startswith("113-0000002-\\u0000") and len(long_id) == 40
    assert aside[long_id][0] == "odd \\udc80 id"


def test_a_set_aside_misfit_is_resolved_when_a_copy_that_fits_comes(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    account_id = seed_account(session_factory)
    store = SqlIngestionStore(clean_db, session_factory, payloads.encode)
    order = amazon_order(1)
    store.save_page(account_id, "orders", [replace(order, service_level="x" * 61)], [], Cursor())
    assert stored_ids(clean_db) == set()
    fixed = replace(order, last_updated_at=order.last_updated_at + timedelta(seconds=1))
    store.save_page(account_id, "orders", [fixed], [], Cursor())
    assert stored_ids(clean_db) == {order.amazon_order_id}
    with clean_db.connect() as conn:
        resolved = conn.execute(select(SetAsideOrder.resolved_at)).scalar_one()
    assert resolved is not None
