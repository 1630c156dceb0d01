"""Fulfilments end to end: the web process over HTTP, real fulfil workers (SIGKILLed several
times), the sandbox with 429s, 503s and responses lost after Amazon applied them. Amazon must
end up with exactly one package per fulfilment, shipped on the store's date."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER, Fault
from infra.db.tables import Fulfilment
from infra.settings import load_settings
from tests.integration.processes import WorkerProcess, wait_for
from workers import compose
from workers.celery_app import app
from workers.demo import ensure_demo_account

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        "ordersV0.confirmShipment" not in SERVED_OPERATIONS,
        reason="the sandbox does not serve confirmShipment yet",
    ),
]

RATE_FACTOR = 50.0  # confirmShipment: 100 calls/s instead of 2
TOKEN = "test-token"
ORDERS = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def env(child_env: dict[str, str], sandbox: SandboxHandle) -> dict[str, str]:
    return {
        **child_env,
        "AMAZON_REGION": "SANDBOX",
        "SPAPI_ENDPOINT": sandbox.base_url,
        "SANDBOX_RATE_FACTOR": str(RATE_FACTOR),
        "API_TOKENS": TOKEN,
        # A killed worker's message comes back in seconds (tasks here last milliseconds).
        "BROKER_VISIBILITY_TIMEOUT": "10",
    }


@pytest.fixture
def orders(
    sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[str, str, int]]:
    """ORDERS unshipped one-line merchant orders, synced into the store:
    (order id, order item id, quantity)."""
    app.control.purge()
    ensure_demo_account(session_factory)
    ids = create_bulk(
        sandbox.state,
        ORDERS,
        seller_id=DEMO_SELLER.seller_id,
        marketplace_id="ATVPDKIKX0DER",
        fulfilled_by="MERCHANT",
        status="UNSHIPPED",
        items_per_order=1,
        spread_seconds=3600,
        seed=21,
    )
    sandbox.state.advance_clock(180)
    for key in ("AMAZON_REGION", "SPAPI_ENDPOINT", "SANDBOX_RATE_FACTOR"):
        monkeypatch.setenv(key, env[key])
    compose.use(load_settings())
    try:
        report = compose.sync_account("demo")
    finally:
        compose.reset_and_close()
    assert report.created == ORDERS
    items = [sandbox.state.order(o).items[0] for o in ids]
    return [(o, i.order_item_id, i.quantity) for o, i in zip(ids, items, strict=True)]


@contextlib.contextmanager
def web_process(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / "web.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "web"],
        env={**env, "WEB_PORT": str(port), "LOG_LEVEL": "WARNING"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), 30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def fulfilment_body(
    platform_id: str, order: tuple[str, str, int], shipped_at: datetime
) -> dict[str, Any]:
    """The whole of a one-line order, shipped by UPS with a tracking number of its own."""
    order_id, item_id, quantity = order
    return {
        "account": "demo",
        "amazon_order_id": order_id,
        "platform_fulfilment_id": platform_id,
        "shipped_at": shipped_at.isoformat(),
        "carrier_code": "UPS",
        "shipping_method": "Ground",
        "tracking_number": "1Z" + platform_id.replace("-", "").rjust(16, "0"),
        "lines": [{"order_item_id": item_id, "quantity": quantity}],
    }


def _confirmed(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(Fulfilment).where(Fulfilment.state == "confirmed")
            ).scalar_one()
        )


def test_three_hundred_fulfilments_make_exactly_one_package_each_through_faults_and_kills(
    sandbox: SandboxHandle,
    orders: list[tuple[str, str, int]],
    env: dict[str, str],
    clean_db: Engine,
    tmp_path: Path,
) -> None:
    op = "ordersV0.confirmShipment"
    for kind, count in (("429", 15), ("503", 15), ("lose_response", 15)):
        sandbox.state.add_fault(Fault(operation=op, kind=kind, count=count))
    shipped_at = (datetime.now(UTC) - timedelta(seconds=30)).replace(microsecond=0)
    worker = WorkerProcess("fulfil", env, tmp_path / "fulfil.log")
    worker.start()
    kills = 0

    def killer() -> None:  # SIGKILL the worker three times while it works, restart it each time
        nonlocal kills
        for threshold in (40, 120, 200):
            wait_for(lambda t=threshold: _confirmed(clean_db) >= t, 120)
            worker.kill()
            kills += 1
            worker.start()

    # Beat's sweeper, as in production: a SIGKILL between Redis's BRPOP and kombu writing the
    # message to its unacked set loses that message (RELIABILITY.md #2); the store still holds
    # the fulfilment, and the sweep queues it again once SWEEP_AFTER has passed.
    stop_sweeping = threading.Event()

    def beat() -> None:
        while not stop_sweeping.wait(5):
            app.send_task("fulfil.sweep")

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
            wait_for(lambda: _confirmed(clean_db) == ORDERS, 180)
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
    faults = [c.fault for c in sandbox.state.call_log(op, limit=10_000) if c.fault]
    assert len(faults) == 45, "every injected fault was met"


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
) -> None:
    """getOrder allows a quarter of confirmShipment's rate: a read-back that cannot be made at
    once (Amazon's 429 here, which empties our bucket too) is put off and read later by
    ``fulfil.read_back``; the confirmation is recorded at once and never sent again."""
    sandbox.state.add_fault(Fault(operation="orders2026.getOrder", kind="429", count=3))
    shipped_at = (datetime.now(UTC) - timedelta(seconds=30)).replace(microsecond=0)
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
        wait_for(lambda: _confirmed(clean_db) == len(chosen), 60)
        assert _read_back_pending(clean_db) >= 1, "the read-back that met the 429 was put off"

        def read_back_done() -> bool:  # beat's tick, every 2 s instead of 10
            if _read_back_pending(clean_db) == 0:
                return True
            app.send_task("fulfil.read_back")
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
    confirms = sandbox.state.call_log("ordersV0.confirmShipment", limit=10_000)
    assert len(confirms) == len(chosen), "a read-back put off never resends the package"
    reads = sandbox.state.call_log("orders2026.getOrder", limit=10_000)
    assert sum(1 for c in reads if c.fault) == 3
    for order_id, _, _ in chosen:
        assert len(sandbox.state.order(order_id).packages) == 1
