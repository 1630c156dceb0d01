"""A thousand orders through a real ingestion worker while Amazon throttles, fails and drops
connections: each order arrives exactly once, and our shared rate budget keeps every call
inside Amazon's limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import Fault
from infra.db.tables import OutboxEvent
from tests.integration.processes import worker
from tests.integration.workers.scenarios import (
    SEARCH_ORDERS,
    assert_store_matches_amazon,
    project_app,
    stage,
    sync_and_wait,
    worker_env,
)
from workers.demo import ensure_demo_account

pytestmark = [pytest.mark.integration, pytest.mark.faults]

RATE_FACTOR = 500.0  # searchOrders: 2.8 calls/s instead of one per three minutes


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def account_id(session_factory: sessionmaker[Session], broker_url: str) -> Iterator[int]:
    with project_app(broker_url):
        yield ensure_demo_account(session_factory).id


@pytest.fixture
def env(child_env: dict[str, str], sandbox: SandboxHandle) -> dict[str, str]:
    return {**worker_env(child_env, sandbox, RATE_FACTOR), "SYNC_PAGE_SIZE": "25"}


def test_a_thousand_orders_arrive_once_through_throttling_and_faults(
    sandbox: SandboxHandle, account_id: int, env: dict[str, str], clean_db: Engine, tmp_path: Path
) -> None:
    stage(sandbox, 1000, seed=7)
    for kind, count in (("429", 3), ("500", 2), ("503", 2), ("drop", 2), ("latency", 3)):
        sandbox.state.add_fault(
            Fault(operation=SEARCH_ORDERS, kind=kind, count=count, latency_ms=300)
        )
    with worker("ingest", env, tmp_path):
        sync_and_wait(clean_db, account_id)
        assert_store_matches_amazon(clean_db, sandbox, account_id)
        faults = [c.fault for c in sandbox.state.call_log(SEARCH_ORDERS, limit=1000) if c.fault]
        assert len(faults) == 12, "every injected fault was met and survived"

        # The same sync again: nothing new stored, no second event for any order.
        sync_and_wait(clean_db, account_id)
    assert_store_matches_amazon(clean_db, sandbox, account_id)
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OutboxEvent)).scalar_one() == 1000
    throttled = [
        c
        for c in sandbox.state.call_log(SEARCH_ORDERS, limit=1000)
        if c.status == 429 and not c.fault
    ]
    assert throttled == [], "the shared rate budget kept every call inside Amazon's limit"
