"""Fulfilments through a real fulfil worker: the web process over HTTP, the sandbox playing
Amazon. A read-back that meets a spent getOrder budget is put off, never the confirmation.
(The 300-fulfilment run through faults and SIGKILLs is in ``tests/faults``.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import Fault
from infra.db.tables import Fulfilment
from infra.settings import Settings
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.scenarios import (
    CONFIRM_SHIPMENT,
    TOKEN,
    confirmed,
    fulfil_env,
    fulfilment_body,
    on_sandbox,
    project_app,
    shipped_at_now,
    synced_merchant_orders,
    web_process,
)
from workers.demo import ensure_demo_account

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        CONFIRM_SHIPMENT not in SERVED_OPERATIONS,
        reason="the sandbox does not serve confirmShipment yet",
    ),
]

RATE_FACTOR = 50.0  # confirmShipment: 100 calls/s instead of 2
ORDERS = 12


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def env(child_env: dict[str, str], sandbox: SandboxHandle) -> dict[str, str]:
    return fulfil_env(child_env, sandbox, RATE_FACTOR)


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    with project_app(broker_url) as app:
        yield app


@pytest.fixture
def orders(
    sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    settings: Settings,
    celery_app: Any,
) -> list[tuple[str, str, int]]:
    ensure_demo_account(session_factory)
    return synced_merchant_orders(sandbox, on_sandbox(settings, sandbox, RATE_FACTOR), ORDERS)


def _read_back_pending(engine: Engine) -> int:
    with engine.connect() as conn:
        pending = Fulfilment.read_back_due_at.is_not(None)
        return int(
            conn.execute(select(func.count()).select_from(Fulfilment).where(pending)).scalar_one()
        )


def test_a_spent_get_order_budget_puts_the_read_back_off_not_the_confirmation(
    sandbox: SandboxHandle,
    orders: list[tuple[str, str, int]],
    env: dict[str, str],
    clean_db: Engine,
    tmp_path: Path,
    celery_app: Any,
) -> None:
    """getOrder allows a quarter of confirmShipment's rate: a read-back that cannot be made at
    once (Amazon's 429 here, which empties our bucket too) is put off and read later by
    ``fulfil.read_back``; the confirmation is recorded at once and never sent again."""
    sandbox.state.add_fault(Fault(operation="orders2026.getOrder", kind="429", count=3))
    shipped_at = shipped_at_now()
    chosen = orders[:12]
    worker = WorkerProcess("fulfil", env, tmp_path / "fulfil.log")
    worker.start()
    try:
        with web_process(env, tmp_path) as base, httpx.Client(base_url=base, timeout=30) as http:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            for n, order in enumerate(chosen):
                body = fulfilment_body(f"R-{n}", order, shipped_at)
                answer = http.post(
                    "/v1/fulfilments",
                    json=body,
                    headers={"Idempotency-Key": str(uuid.uuid4()), **headers},
                )
                assert answer.status_code == 201, answer.text
        wait_for(lambda: confirmed(clean_db) == len(chosen), 60)
        assert _read_back_pending(clean_db) >= 1, "the read-back that met the 429 was put off"

        def read_back_done() -> bool:  # beat's tick, every 2 s instead of 10
            if _read_back_pending(clean_db) == 0:
                return True
            celery_app.send_task("fulfil.read_back")
            return False

        wait_for(read_back_done, 60, interval_s=2)  # retries are due 10 s after Amazon's 429
    finally:
        worker.stop()

    with clean_db.connect() as conn:
        rows = conn.execute(
            select(
                Fulfilment.amazon_order_status,
                Fulfilment.amazon_package_status,
                Fulfilment.amazon_checked_at,
            )
        ).all()
    assert len(rows) == len(chosen)
    assert all(status == "SHIPPED" and checked is not None for status, _, checked in rows)
    confirms = sandbox.state.call_log(CONFIRM_SHIPMENT, limit=10_000)
    assert len(confirms) == len(chosen), "a read-back put off never resends the package"
    reads = sandbox.state.call_log("orders2026.getOrder", limit=10_000)
    assert sum(1 for c in reads if c.fault) == 3
    for order_id, _, _ in chosen:
        assert len(sandbox.state.order(order_id).packages) == 1
