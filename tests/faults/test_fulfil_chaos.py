"""Three hundred fulfilments through the web process and a real fulfil worker SIGKILLed three
times, while the sandbox answers 429, 503 and loses responses after applying them. Amazon must
end up with exactly one package per fulfilment, shipped on the store's date. Run twice: with the
session's Redis as the broker (a killed worker's message comes back after the visibility
timeout, or through the sweeper when the kill fell between BRPOP and the unacked set) and with a
RabbitMQ node of the run's own (quorum queues: the unacked messages of a killed worker's
connection are requeued at once, so the redelivered copies meet the claim while the fulfilments
are still in flight)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import Fault
from infra.db.tables import Fulfilment
from infra.settings import Settings
from tests.faults.harness.brokers import BROKERS
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
    pytest.mark.faults,
    pytest.mark.skipif(
        CONFIRM_SHIPMENT not in SERVED_OPERATIONS,
        reason="the sandbox does not serve confirmShipment yet",
    ),
]

RATE_FACTOR = 50.0  # confirmShipment: 100 calls/s instead of 2
ORDERS = 300


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
    return {**fulfil_env(child_env, sandbox, RATE_FACTOR), "BROKER_URL": chaos_broker}


@pytest.fixture
def orders(
    sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    settings: Settings,
    celery_app: Any,
) -> list[tuple[str, str, int]]:
    ensure_demo_account(session_factory)
    return synced_merchant_orders(sandbox, on_sandbox(settings, sandbox, RATE_FACTOR), ORDERS)


@pytest.mark.parametrize("chaos_broker", BROKERS, indirect=True)
def test_three_hundred_fulfilments_make_exactly_one_package_each_through_faults_and_kills(
    sandbox: SandboxHandle,
    orders: list[tuple[str, str, int]],
    env: dict[str, str],
    clean_db: Engine,
    tmp_path: Path,
    sweeps: Any,
) -> None:
    for kind, count in (("429", 15), ("503", 15), ("lose_response", 15)):
        sandbox.state.add_fault(Fault(operation=CONFIRM_SHIPMENT, kind=kind, count=count))
    shipped_at = shipped_at_now()
    worker = WorkerProcess("fulfil", env, tmp_path / "fulfil.log")
    worker.start()
    kills = 0

    def killer() -> None:  # SIGKILL the worker three times while it works, restart it each time
        nonlocal kills
        for threshold in (40, 120, 200):
            wait_for(lambda t=threshold: confirmed(clean_db) >= t, 120)
            worker.kill()
            kills += 1
            worker.start()

    # Beat's sweeper, as in production: a SIGKILL between Redis's BRPOP and kombu writing the
    # message to its unacked set loses that message; the store still holds the fulfilment, and
    # the sweep queues it again once SWEEP_AFTER has passed.
    stop_sweeping = threading.Event()

    def beat() -> None:
        while not stop_sweeping.wait(5):
            sweeps.send_task("fulfil.sweep", queue="fulfil")

    chaos = threading.Thread(target=killer, daemon=True)
    sweeper = threading.Thread(target=beat, daemon=True)
    try:
        with web_process(env, tmp_path) as base, httpx.Client(base_url=base, timeout=30) as http:
            chaos.start()
            sweeper.start()
            headers = {"Authorization": f"Bearer {TOKEN}"}
            for n, order in enumerate(orders):
                body = fulfilment_body(f"F-{n}", order, shipped_at)
                key = {"Idempotency-Key": str(uuid.uuid4()), **headers}
                replays = 3 if n == 0 else 1  # the first request is sent three times
                answers = [
                    http.post("/v1/fulfilments", json=body, headers=key) for _ in range(replays)
                ]
                assert answers[0].status_code == 201, answers[0].text
                assert all(a.json() == answers[0].json() for a in answers)
            chaos.join(timeout=180)
            wait_for(lambda: confirmed(clean_db) == ORDERS, 180)
    finally:
        stop_sweeping.set()
        worker.stop()
    assert kills == 3

    with clean_db.connect() as conn:
        rows = conn.execute(select(Fulfilment.id, Fulfilment.amazon_order_id)).all()
    assert len(rows) == ORDERS, "the replayed request made one fulfilment"
    reference = {order_id: str(fid) for fid, order_id in rows}
    for order_id, _, _ in orders:
        packages = sandbox.state.order(order_id).packages
        assert len(packages) == 1, f"{order_id} has {len(packages)} packages"
        assert packages[0].package_reference_id == reference[order_id]
        assert packages[0].ship_time == shipped_at.astimezone(UTC)
        assert sandbox.state.order(order_id).status == "SHIPPED"
    faults = [c.fault for c in sandbox.state.call_log(CONFIRM_SHIPMENT, limit=10_000) if c.fault]
    assert len(faults) == 45, "every injected fault was met"
