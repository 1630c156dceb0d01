"""A payout worker SIGKILLed in the middle of a large settlement report: the next worker (the
same message redelivered, or beat's next tick) resumes after the last committed batch, and every
line is stored exactly once; the settlement is reconciled and announced once. On the session's
Redis and on a RabbitMQ node of the run's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.tables import Order, OutboxEvent, Settlement, SettlementLineRow
from infra.settings import Settings
from tests.faults.harness.brokers import BROKERS
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.scenarios import on_sandbox, project_app, worker_env
from workers import bootstrap
from workers.demo import ensure_demo_account

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ORDERS = 3000  # about 34,000 lines: the kill lands after the first batch, long before the end
RATE_FACTOR = 0.0


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    with project_app(broker_url) as app:
        yield app


@pytest.fixture
def env(child_env: dict[str, str], sandbox: SandboxHandle, chaos_broker: str) -> dict[str, str]:
    """The payout worker's environment: a killed worker's message back after 5 s on Redis (on
    RabbitMQ at once, with its connection)."""
    worker = worker_env(child_env, sandbox, RATE_FACTOR)
    return {**worker, "BROKER_VISIBILITY_TIMEOUT": "5", "BROKER_URL": chaos_broker}


def _stored(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        distinct = func.count(func.distinct(SettlementLineRow.line_no))
        lines, unique = conn.execute(select(func.count(), distinct)).one()
    return int(lines), int(unique)


def _state(engine: Engine) -> str | None:
    with engine.connect() as conn:
        found = conn.execute(select(Settlement.state)).scalar()
    return None if found is None else str(found)


@pytest.mark.parametrize("chaos_broker", BROKERS, indirect=True)
def test_a_worker_killed_mid_report_loses_nothing_and_stores_each_line_once(
    sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    env: dict[str, str],
    settings: Settings,
    clean_db: Engine,
    tmp_path: Path,
    sweeps: Any,
) -> None:
    ensure_demo_account(session_factory)
    create_bulk(
        sandbox.state, ORDERS, seller_id=DEMO_SELLER.seller_id, marketplace_id="ATVPDKIKX0DER",
        fulfilled_by=None, status="SHIPPED", items_per_order=2, spread_seconds=3600, seed=12,
    )  # fmt: skip
    sandbox.state.advance_clock(180)
    bootstrap.use(on_sandbox(settings, sandbox, RATE_FACTOR), patient=True)
    try:
        while bootstrap.sync_account("demo").pages:  # every page of the 3,000 orders
            if _orders(clean_db) >= ORDERS:
                break
    finally:
        bootstrap.reset_and_close()
    closed = httpx.post(
        f"{sandbox.base_url}/_sandbox/settlements/close",
        json={"seller_id": DEMO_SELLER.seller_id},
        timeout=60,
    )
    assert closed.status_code == 201, closed.text
    sandbox.state.advance_clock(180)
    first = WorkerProcess("payout", env, tmp_path / "payout-1.log")
    first.start()
    try:
        sweeps.send_task("payout.fetch_all")
        wait_for(lambda: _stored(clean_db)[0] >= 5_000, 120)  # a batch or more committed
        first.kill()  # SIGKILL, main process and pool child, mid-report
    finally:
        first.kill()
    killed_at, _ = _stored(clean_db)
    assert _state(clean_db) == "fetching", "the kill came after the report was done"

    second = WorkerProcess("payout", env, tmp_path / "payout-2.log")
    second.start()
    try:
        sweeps.send_task("payout.fetch_all")  # beat's next tick (the lost one comes back too)
        wait_for(lambda: _state(clean_db) == "reconciled", 180)
    finally:
        second.stop()

    lines, unique = _stored(clean_db)
    assert lines == unique > killed_at
    with clean_db.connect() as conn:
        announced = conn.execute(
            select(func.count()).where(OutboxEvent.topic == "payouts/available")
        ).scalar_one()
    assert announced == 1


def _orders(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Order)).scalar_one())
