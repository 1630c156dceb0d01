"""Order ingestion end to end: real Celery worker processes, real PostgreSQL and Redis, the
sandbox over HTTP, with throttling, faults and a worker killed with SIGKILL mid-sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER, Fault
from infra.db.tables import Order, OrderItem, OutboxEvent, SyncCursor
from tests.integration.processes import wait_for, worker
from workers.celery_app import app
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration

RATE_FACTOR = 500.0  # searchOrders: 2.8 calls/s instead of one per three minutes


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def account_id(session_factory: sessionmaker[Session]) -> int:
    app.control.purge()  # nothing left over from an earlier test's killed worker
    return ensure_demo_account(session_factory).id


@pytest.fixture
def env(child_env: dict[str, str], sandbox: SandboxHandle) -> dict[str, str]:
    return {
        **child_env,
        "AMAZON_REGION": "SANDBOX",
        "SPAPI_ENDPOINT": sandbox.base_url,
        "SANDBOX_RATE_FACTOR": str(RATE_FACTOR),
        "SYNC_PAGE_SIZE": "25",
        "LOG_LEVEL": "INFO",
    }


def _stage(sandbox: SandboxHandle, count: int, seed: int) -> list[str]:
    from infra.amazon.sandbox.generate import create_bulk

    ids = create_bulk(
        sandbox.state,
        count,
        seller_id=DEMO_SELLER.seller_id,
        marketplace_id=None,
        fulfilled_by=None,
        status=None,
        items_per_order=None,
        spread_seconds=60,
        seed=seed,
    )
    sandbox.state.advance_clock(180)  # past Amazon's two-minute visibility rule
    return ids


def _last_success(engine: Engine, account_id: int) -> object:
    with engine.connect() as conn:
        return conn.execute(
            select(SyncCursor.last_success_at).where(
                SyncCursor.account_id == account_id, SyncCursor.scope == "orders"
            )
        ).scalar()


def _sync_and_wait(engine: Engine, account_id: int, timeout_s: float = 120) -> None:
    before = _last_success(engine, account_id)
    app.send_task("ingest.sync_account", args=[account_id])
    wait_for(lambda: _last_success(engine, account_id) not in (None, before), timeout_s)


def _assert_store_matches_amazon(engine: Engine, sandbox: SandboxHandle, account_id: int) -> None:
    amazon = {o.order_id: o for o in sandbox.state.orders_of(DEMO_SELLER.seller_id)}
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Order.id, Order.amazon_order_id, Order.status, Order.buyer_cancel_requested
            ).where(Order.account_id == account_id)
        ).all()
        items = conn.execute(
            select(Order.amazon_order_id, OrderItem.order_item_id, OrderItem.quantity_ordered).join(
                Order, Order.id == OrderItem.order_id
            )
        ).all()
    stored = {r.amazon_order_id: r for r in rows}
    assert len(rows) == len(stored) == len(amazon), "each order exactly once"
    for order_id, order in amazon.items():
        assert stored[order_id].status == order.status, order_id
        assert stored[order_id].buyer_cancel_requested == any(i.cancel_reason for i in order.items)
    expected_items = {
        (o.order_id, i.order_item_id, i.quantity) for o in amazon.values() for i in o.items
    }
    assert set(items) == expected_items and len(items) == len(expected_items)


def test_a_thousand_orders_arrive_once_through_throttling_and_faults(
    sandbox: SandboxHandle, account_id: int, env: dict[str, str], clean_db: Engine, tmp_path: Path
) -> None:
    _stage(sandbox, 1000, seed=7)
    op = "orders2026.searchOrders"
    for kind, count in (("429", 3), ("500", 2), ("503", 2), ("drop", 2), ("latency", 3)):
        sandbox.state.add_fault(Fault(operation=op, kind=kind, count=count, latency_ms=300))
    with worker("ingest", env, tmp_path):
        _sync_and_wait(clean_db, account_id)
        _assert_store_matches_amazon(clean_db, sandbox, account_id)
        faults = [c.fault for c in sandbox.state.call_log(op, limit=1000) if c.fault]
        assert len(faults) == 12, "every injected fault was met and survived"

        # The same sync again: nothing new stored, no second event for any order.
        _sync_and_wait(clean_db, account_id)
    _assert_store_matches_amazon(clean_db, sandbox, account_id)
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OutboxEvent)).scalar_one() == 1000
    throttled = [
        c for c in sandbox.state.call_log(op, limit=1000) if c.status == 429 and not c.fault
    ]
    assert throttled == [], "the shared rate budget kept every call inside Amazon's limit"


def test_an_ingestion_worker_killed_mid_sync_loses_nothing(
    sandbox: SandboxHandle, account_id: int, env: dict[str, str], clean_db: Engine, tmp_path: Path
) -> None:
    _stage(sandbox, 500, seed=11)
    op = "orders2026.searchOrders"
    sandbox.state.add_fault(Fault(operation=op, kind="latency", count=100, latency_ms=300))

    def pages_done() -> int:
        with clean_db.connect() as conn:
            value = conn.execute(
                select(SyncCursor.pages_done).where(SyncCursor.account_id == account_id)
            ).scalar()
        return int(value or 0)

    with worker("ingest", env, tmp_path) as first:
        app.send_task("ingest.sync_account", args=[account_id])
        wait_for(lambda: pages_done() >= 4, 60)
        first.kill()
    with clean_db.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Order)).scalar_one()
        cursor = conn.execute(select(SyncCursor)).one()
    assert 0 < stored < 500 and cursor.watermark is None and cursor.pagination_token
    calls_before_restart = len(sandbox.state.call_log(op, limit=1000))

    with worker("ingest", env, tmp_path):
        _sync_and_wait(clean_db, account_id)  # beat's next tick, sent by the test
    _assert_store_matches_amazon(clean_db, sandbox, account_id)
    resumed_calls = len(sandbox.state.call_log(op, limit=1000)) - calls_before_restart
    # The pages left, plus at most: the page in flight when it died (prefetched), the empty
    # window of a second sync (RabbitMQ redelivers the killed worker's message at once), and the
    # empty window of the sync the test sent. From the start it would be 20 pages and more.
    assert resumed_calls <= 20 - cursor.pages_done + 3, "resumed at its page, not from the start"
    with clean_db.connect() as conn:
        duplicates = conn.execute(
            text("SELECT count(*) FROM (SELECT aggregate_key FROM outbox_events"
                 " GROUP BY aggregate_key HAVING count(*) > 1) d")
        ).scalar_one()  # fmt: skip
    assert duplicates == 0


def test_orders_changed_on_amazon_while_a_sync_runs_are_picked_up_by_the_next(
    sandbox: SandboxHandle, account_id: int, env: dict[str, str], clean_db: Engine, tmp_path: Path
) -> None:
    ids = _stage(sandbox, 300, seed=5)
    op = "orders2026.searchOrders"
    sandbox.state.add_fault(Fault(operation=op, kind="latency", count=100, latency_ms=200))
    with worker("ingest", env, tmp_path):
        app.send_task("ingest.sync_account", args=[account_id])
        wait_for(lambda: _last_success(clean_db, account_id) is None and _pages(clean_db) >= 2, 60)
        with clean_db.connect() as conn:  # orders the running sync has stored already
            unshipped = list(
                conn.execute(
                    select(Order.amazon_order_id)
                    .where(Order.status == "UNSHIPPED", Order.fulfilled_by == "MERCHANT")
                    .limit(10)
                ).scalars()
            )
        assert len(unshipped) == 10
        for order_id in unshipped[:5]:
            sandbox.state.set_status(order_id, "SHIPPED")
        for order_id in unshipped[5:]:
            sandbox.state.request_cancellation(order_id, "Ordered by mistake", None)
        wait_for(lambda: _last_success(clean_db, account_id) is not None, 60)
        sandbox.state.advance_clock(180)
        _sync_and_wait(clean_db, account_id)
    assert len(ids) == 300
    _assert_store_matches_amazon(clean_db, sandbox, account_id)
    with clean_db.connect() as conn:
        topics = conn.execute(
            select(OutboxEvent.topic, func.count()).group_by(OutboxEvent.topic)
        ).all()
    counts = dict(topics)
    assert counts["orders/created"] + counts.get("orders/cancelled", 0) >= 300
    assert counts["orders/updated"] >= 10


def _pages(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(SyncCursor.pages_done))).scalar() or 0)
