"""Order ingestion end to end: real Celery worker processes, real PostgreSQL and Redis, the
sandbox over HTTP, with a worker killed with SIGKILL mid-sync; and beat's fan-out, which never
queues a second sync for an account whose sync is still waiting. (The 1,000-order run through
throttling and faults is in ``tests/faults``.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from domain.ingestion.overlap import MIN_OVERLAP
from infra.amazon.ratelimit import DEFAULT_KEY_PREFIX
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import Fault
from infra.db.accounts import add_account
from infra.db.tables import Order, OutboxEvent, SyncCursor
from infra.settings import Region, Settings
from tests.integration.processes import wait_for, worker
from tests.integration.workers.scenarios import (
    SEARCH_ORDERS,
    assert_store_matches_amazon,
    last_success,
    on_sandbox,
    pages,
    project_app,
    stage,
    sync_and_wait,
    worker_env,
)
from workers import bootstrap
from workers.demo import ensure_demo_account
from workers.tasks.ingest import PENDING_TTL_S, PendingSyncs, QueuedAt, sync_all
from workers.windows import PREFIX as WINDOW_PREFIX
from workers.windows import last_window

pytestmark = pytest.mark.integration

RATE_FACTOR = 500.0  # searchOrders: 2.8 calls/s instead of one per three minutes


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    with project_app(broker_url) as app:
        yield app


@pytest.fixture
def account_id(session_factory: sessionmaker[Session], celery_app: Any) -> int:
    return ensure_demo_account(session_factory).id


@pytest.fixture
def env(child_env: dict[str, str], sandbox: SandboxHandle) -> dict[str, str]:
    return {**worker_env(child_env, sandbox, RATE_FACTOR), "SYNC_PAGE_SIZE": "25"}


def _forget_syncs_and_budgets(client: redis.Redis) -> None:
    """No sync mark, last-queued time or rate budget of an earlier test's accounts (ids are
    reused from one test to the next, and budgets were spent at other rates)."""
    for prefix in (PendingSyncs.PREFIX, QueuedAt.PREFIX, WINDOW_PREFIX, f"{DEFAULT_KEY_PREFIX}:"):
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


@pytest.fixture
def pending(redis_client: redis.Redis) -> Iterator[PendingSyncs]:
    _forget_syncs_and_budgets(redis_client)
    yield PendingSyncs(redis_client)
    _forget_syncs_and_budgets(redis_client)


def test_an_ingestion_worker_killed_mid_sync_loses_nothing(
    sandbox: SandboxHandle,
    account_id: int,
    env: dict[str, str],
    clean_db: Engine,
    tmp_path: Path,
    celery_app: Any,
) -> None:
    stage(sandbox, 500, seed=11)
    sandbox.state.add_fault(
        Fault(operation=SEARCH_ORDERS, kind="latency", count=100, latency_ms=300)
    )

    def pages_done() -> int:
        with clean_db.connect() as conn:
            value = conn.execute(
                select(SyncCursor.pages_done).where(SyncCursor.account_id == account_id)
            ).scalar()
        return int(value or 0)

    with worker("ingest", env, tmp_path) as first:
        celery_app.send_task("ingest.sync_account", args=[account_id])
        wait_for(lambda: pages_done() >= 4, 60)
        first.kill()
    with clean_db.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Order)).scalar_one()
        cursor = conn.execute(select(SyncCursor)).one()
    assert 0 < stored < 500 and cursor.watermark is None and cursor.pagination_token
    calls_before_restart = len(sandbox.state.call_log(SEARCH_ORDERS, limit=1000))

    with worker("ingest", env, tmp_path):
        sync_and_wait(clean_db, account_id)  # beat's next tick, sent by the test
    assert_store_matches_amazon(clean_db, sandbox, account_id)
    resumed_calls = len(sandbox.state.call_log(SEARCH_ORDERS, limit=1000)) - calls_before_restart
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
    sandbox: SandboxHandle,
    account_id: int,
    env: dict[str, str],
    clean_db: Engine,
    tmp_path: Path,
    celery_app: Any,
) -> None:
    ids = stage(sandbox, 300, seed=5)
    sandbox.state.add_fault(
        Fault(operation=SEARCH_ORDERS, kind="latency", count=100, latency_ms=200)
    )
    with worker("ingest", env, tmp_path):
        celery_app.send_task("ingest.sync_account", args=[account_id])
        wait_for(lambda: last_success(clean_db, account_id) is None and pages(clean_db) >= 2, 60)
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
        wait_for(lambda: last_success(clean_db, account_id) is not None, 60)
        sandbox.state.advance_clock(180)
        sync_and_wait(clean_db, account_id)
    assert len(ids) == 300
    assert_store_matches_amazon(clean_db, sandbox, account_id)
    with clean_db.connect() as conn:
        topics = conn.execute(
            select(OutboxEvent.topic, func.count()).group_by(OutboxEvent.topic)
        ).all()
    counts = dict(topics)
    assert counts["orders/created"] + counts.get("orders/cancelled", 0) >= 300
    assert counts["orders/updated"] >= 10


# --- beat's fan-out ----------------------------------------------------------------------------


def _queued_syncs(app: Any) -> list[int]:
    """The account ids of the syncs waiting on the ingest queue (read off the broker)."""
    found = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(app.amqp.queues["ingest"])
        try:
            while True:
                try:
                    # What was published is on the broker already: a short wait sees it empty.
                    message = queue.get(timeout=0.1)
                except queue.Empty:
                    break
                assert message.headers["task"] == "ingest.sync_account"
                found.append(message.payload[0][0])
                message.ack()
        finally:
            queue.close()
    return found


def test_beat_queues_no_second_sync_for_an_account_whose_sync_is_waiting(
    settings: Settings,
    session_factory: sessionmaker[Session],
    celery_app: Any,
    pending: PendingSyncs,
    redis_client: redis.Redis,
) -> None:
    demo = ensure_demo_account(session_factory).id
    other = add_account(
        session_factory,
        name="other",
        selling_partner_id="A2OTHER",
        region=Region.SANDBOX.value,
        marketplace_ids=["ATVPDKIKX0DER"],
        refresh_token="Atzr|other",
    ).id
    bootstrap.use(settings)
    try:
        assert sync_all() == 2
        assert sync_all() == 0, "both syncs are still waiting: the next ticks queue nothing"
        assert sync_all() == 0
        assert sorted(_queued_syncs(celery_app)) == sorted([demo, other])
        ttl = redis_client.ttl(f"{PendingSyncs.PREFIX}{demo}")
        assert 0 < ttl <= PENDING_TTL_S, "a mark that outlives its sync lapses by itself"

        pending.release(demo)  # the demo's sync ended
        assert sync_all() == 1
        assert _queued_syncs(celery_app) == [demo]
        assert pending.is_pending(demo) and pending.is_pending(other)
    finally:
        bootstrap.reset_and_close()


def test_a_sync_that_ends_clears_its_mark_so_the_next_tick_queues_again(
    sandbox: SandboxHandle,
    account_id: int,
    env: dict[str, str],
    clean_db: Engine,
    tmp_path: Path,
    pending: PendingSyncs,
    celery_app: Any,
) -> None:
    stage(sandbox, 30, seed=3)
    with worker("ingest", env, tmp_path):
        celery_app.send_task("ingest.sync_all")  # beat's tick
        wait_for(lambda: last_success(clean_db, account_id) is not None, 60)
        wait_for(lambda: not pending.is_pending(account_id), 10)
    assert_store_matches_amazon(clean_db, sandbox, account_id)
    assert pending.claim(account_id), "the next tick may queue the account's sync again"


def test_a_sync_remembers_its_window_and_a_busy_one_makes_the_next_reach_back_less(
    sandbox: SandboxHandle,
    account_id: int,
    settings: Settings,
    clean_db: Engine,
    pending: PendingSyncs,
    redis_client: redis.Redis,
) -> None:
    stage(sandbox, 30, seed=5)
    c = bootstrap.use(on_sandbox(settings, sandbox, RATE_FACTOR), patient=False)
    try:
        first = bootstrap.sync_account(account_id)
        seen = last_window(redis_client, account_id, "orders")
        assert seen is not None and seen.orders == first.orders == 30
        assert first.watermark is not None and first.window_after is not None
        assert seen.span_s == pytest.approx((first.watermark - first.window_after).total_seconds())

        def after_of_next_sync() -> Any:
            calls_before = len(sandbox.state.call_log(SEARCH_ORDERS, limit=1000))
            report = bootstrap.sync_account(account_id)
            assert len(sandbox.state.call_log(SEARCH_ORDERS, limit=1000)) == calls_before + 1
            return report.window_after

        sandbox.state.advance_clock(60)
        whole = after_of_next_sync()
        # A window that read 4,000 orders in 481 s: the next one reaches back only the minimum.
        redis_client.set(f"amazon-channel:ingest:window:{account_id}:orders", "4000 481.0")
        sandbox.state.advance_clock(60)
        watermark = c.ingestion_store.load_cursor(account_id, "orders").watermark
        cut = after_of_next_sync()
    finally:
        bootstrap.reset_and_close()
    assert whole is not None and cut is not None and watermark is not None
    assert whole == first.watermark - timedelta(seconds=c.settings.sync_overlap_seconds), (
        "30 orders in the first window: the whole overlap"
    )
    assert cut == watermark - MIN_OVERLAP
