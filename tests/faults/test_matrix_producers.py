"""The fault matrix, producers: a producer killed between its commit and its publish (#23: the
fulfilment is stored, its message never sent; the sweeper queues what nobody is sending), and an
ingestion worker SIGKILLed mid-page (#24: the cursor never runs past a page whose orders are not
committed, and the next sync fills the gap, each order stored once). On Redis and on RabbitMQ as
the broker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from infra.amazon.sandbox.state import Fault
from infra.db.tables import Fulfilment, Order, SyncCursor
from tests.faults.harness.brokers import BROKERS, on
from tests.faults.harness.checker import recovery
from tests.faults.harness.proxy import TcpProxy
from tests.faults.harness.run import run_scenario
from tests.faults.harness.sender import TaskSender
from tests.faults.harness.settled import settle
from tests.faults.harness.stack import BeatProcess, Stack, fault_stack
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.scenarios import SEARCH_ORDERS, shipped_at_now

pytestmark = [pytest.mark.integration, pytest.mark.faults]

PRODUCERS = 3


@pytest.fixture(params=BROKERS)
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """On a broker an hour old (``settle``): a lost publish waits for the sweeper, which a new
    broker's republishing would otherwise queue at once."""
    with fault_stack(tmp_path, orders=20, broker=request.param) as running:
        settle(running)
        yield running


def _stored(stack: Stack, platform_id: str) -> bool:
    with stack.engine.connect() as conn:
        found = conn.execute(
            select(Fulfilment.id).where(Fulfilment.platform_fulfilment_id == platform_id)
        ).first()
    return found is not None


# A backend waiting to lock a row ``holder`` has locked: the intake's lock of its order (the
# order sync may wait on the same row, but with an upsert, never with FOR UPDATE).
WAITING_TO_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE :holder = ANY(pg_blocking_pids(pid)) AND query ILIKE '%FOR UPDATE%'"
)


def _waiting_on(stack: Stack, holder_pid: int) -> bool:
    with stack.engine.connect() as conn:
        waiting = conn.execute(WAITING_TO_LOCK, {"holder": holder_pid}).scalar_one()
    return int(waiting) > 0


def crash_after_commit(stack: Stack) -> set[str]:
    """The CLI producer (``amazon-channel fulfil``) SIGKILLed between its commit and its publish.

    The producer reaches the broker through a proxy of its own (the workers' path stays open).
    Before its commit it checks the broker (every command does); then the intake locks the
    order's row. The test holds that row locked first, so the producer waits inside its
    transaction, past its check: the producer's path is blackholed then, the row let go, and the
    producer commits and hangs in its publish, where it is killed. Its held bytes are dropped
    (the proxy's links reset, not healed), so no message of it ever reaches the broker: only the
    sweeper can queue it."""
    shipped_at = shipped_at_now().isoformat()
    broker = stack.rabbit if stack.rabbit is not None else stack.redis
    path = TcpProxy("127.0.0.1", broker.port).start()
    try:
        return {
            _killed_after_commit(stack, path, f"CLI-{n}", order, shipped_at)
            for n, order in enumerate(stack.orders[-PRODUCERS:])
        }
    finally:
        path.stop()


def _killed_after_commit(
    stack: Stack, path: TcpProxy, platform_id: str, order: tuple[str, str, int], shipped_at: str
) -> str:
    order_id, item_id, quantity = order
    if stack.rabbit is None:  # one Redis for everything: all of it through the path
        own = {"REDIS_URL": f"redis://127.0.0.1:{path.port}/0"}
        own["BROKER_URL"] = own["REDIS_URL"]
    else:
        own = {"BROKER_URL": f"amqp://guest:guest@127.0.0.1:{path.port}//"}
    with stack.engine.connect() as holder:
        holder.execute(select(Order.id).where(Order.amazon_order_id == order_id).with_for_update())
        holder_pid = holder.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
        log_path = stack.root / f"producer-{platform_id}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "workers.cli", "fulfil", "demo", order_id,
                    "--id", platform_id, "--shipped-at", shipped_at, "--carrier", "UPS",
                    "--tracking", f"1ZCLI{platform_id[-1]:0>12}", "--item", f"{item_id}={quantity}",
                ],
                env={**stack.env, **own},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            wait_for(lambda: _waiting_on(stack, holder_pid) or process.poll() is not None, 60)
            assert process.poll() is None, f"it ended before its commit: {log_path.read_text()}"
            path.blackhole = True
            holder.rollback()  # the order's row let go: the producer commits
            wait_for(lambda: _stored(stack, platform_id), 30)
            time.sleep(0.3)  # inside its publish now
            assert process.poll() is None, "the producer finished: its publish went out"
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    path.reset_all()  # what it held is dropped, never delivered
    path.blackhole = False
    return platform_id


def test_23_producer_killed_between_commit_and_publish(stack: Stack) -> None:
    run_scenario(
        stack,
        f"#23 producer SIGKILL between commit and publish{on(stack)}",
        "I1-I3 (the sweeper queues it), recovered <= 60 s",
        crash_after_commit,
        reserve=PRODUCERS,
    )


@pytest.fixture(params=BROKERS)
def ingest_stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    with fault_stack(tmp_path, orders=1, broker=request.param, SYNC_PAGE_SIZE="10") as running:
        yield running


def test_24_ingestion_killed_mid_page(ingest_stack: Stack) -> None:
    stack = ingest_stack
    stack.arrive(150, seed=24)
    stack.sandbox.state.add_fault(
        Fault(operation=SEARCH_ORDERS, kind="latency", count=40, latency_ms=300)
    )
    with stack.engine.connect() as conn:
        account_id = conn.execute(
            select(SyncCursor.account_id).where(SyncCursor.scope == "orders")
        ).scalar_one()

    def cursor() -> tuple[int, int, int]:
        with stack.engine.connect() as conn:
            row = conn.execute(
                select(SyncCursor.pages_done, SyncCursor.orders_seen).where(
                    SyncCursor.scope == "orders"
                )
            ).one()
            stored = conn.execute(select(func.count()).select_from(Order)).scalar_one()
        return int(row.pages_done), int(row.orders_seen), int(stored)

    pages_before = cursor()[0]
    ingest = WorkerProcess("ingest", stack.env, stack.root / "worker-ingest.log")
    ingest.start()
    try:
        # Sent by a process of the stack's own environment (``TaskSender``): this test
        # process is configured for the session's Redis.
        with TaskSender(stack.env) as sender:
            sender.send_task("ingest.sync_account", args=[account_id])
        wait_for(lambda: cursor()[0] >= pages_before + 3, 60, interval_s=0.05)
    finally:
        ingest.kill()  # mid-sync, or (the wait failed) not left running past the test
    ended = time.monotonic()
    _pages, seen, stored = cursor()
    assert stored >= seen, f"the cursor ran past uncommitted pages: {seen} seen, {stored} stored"
    assert stored < 151, "killed mid-sync"
    stack.workers["ingest"] = ingest
    ingest.start()
    stack.beat = BeatProcess(stack.env, stack.root / "beat.log")
    stack.beat.start()
    outcome = recovery(
        stack.engine,
        stack.sandbox,
        set(),
        scenario=f"#24 ingestion SIGKILL mid-page{on(stack)}",
        invariant="cursor <= committed pages; I3 after the rerun, recovered <= 60 s",
        fault_ended=ended,
    )
    assert outcome.passed, f"{outcome.line()}\n{stack.logs()}"
    with stack.engine.connect() as conn:
        orders = conn.execute(select(func.count()).select_from(Order)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(Order.amazon_order_id)))).scalar()
    assert orders == distinct == 151
