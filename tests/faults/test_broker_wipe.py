"""Redis loses all its data (FLUSHALL) while fulfilments are queued: beat keeps running, takes
its lock again and rebuilds its schedule, a second beat beside it stays standby, and every
accepted fulfilment is confirmed on Amazon exactly once within 60 s of the wipe.

The test owns its Redis (a redis-server of its own, so the wipe touches nothing else); beat, the
second beat and the fulfil worker are subprocesses in their own sessions; fulfilments come in
through the web process. Amazon's confirmShipment is slowed (5 calls/s) so that most of the
queue is still waiting when Redis is wiped: those messages are lost, and only the healing beat
and the sweeper's broker-epoch check bring them back in time (without them the store's own
backstop would wait 2 to 10 minutes)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.broker import QueueProbe
from infra.db.tables import Fulfilment
from infra.embedded import EmbeddedRedis
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
from workers.schedule import beat_schedule

pytestmark = [
    pytest.mark.integration,
    pytest.mark.faults,
    pytest.mark.skipif(
        CONFIRM_SHIPMENT not in SERVED_OPERATIONS,
        reason="the sandbox does not serve confirmShipment yet",
    ),
]

RATE_FACTOR = 2.5  # confirmShipment: 5 calls/s
ORDERS = 100
BOUND_S = 60.0
SCHEDULE_KEY = "amazon-channel:redbeat::schedule"
SENDING = re.compile(r"Sending due task")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "own")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def env(
    child_env: dict[str, str], sandbox: SandboxHandle, own_redis: EmbeddedRedis
) -> dict[str, str]:
    return {
        **fulfil_env(child_env, sandbox, RATE_FACTOR),
        "REDIS_URL": own_redis.url,
        "BROKER_URL": own_redis.broker_url,
        # Long enough that no message of a live worker comes back on its own during the run.
        "BROKER_VISIBILITY_TIMEOUT": "900",
    }


@pytest.fixture
def orders(
    sandbox: SandboxHandle, session_factory: sessionmaker[Session], settings: Settings
) -> list[tuple[str, str, int]]:
    ensure_demo_account(session_factory)
    return synced_merchant_orders(sandbox, on_sandbox(settings, sandbox, RATE_FACTOR), ORDERS)


class Beat:
    """``celery beat`` as a subprocess in its own session, its lines in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.app", "beat",
                 "--loglevel", "DEBUG"],
                env={**env, "LOG_LEVEL": "DEBUG", "PROCESS_NAME": log_path.stem},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sends(self) -> int:
        return len(SENDING.findall(self.text()))

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def sends_while_not_holding(text: str) -> int:
    """Due tasks a beat sent while it did not hold the lock: before its first "holds the lock"
    line, and between a "lost its lock" line and the next "holds the lock"."""
    holding, wrong = False, 0
    for line in text.splitlines():
        if "beat: holds the lock" in line:
            holding = True
        elif "beat: lost its lock" in line:
            holding = False
        elif SENDING.search(line) and not holding:
            wrong += 1
    return wrong


def test_a_wiped_redis_heals_beat_and_every_accepted_fulfilment_is_confirmed_once_in_time(
    sandbox: SandboxHandle,
    orders: list[tuple[str, str, int]],
    env: dict[str, str],
    own_redis: EmbeddedRedis,
    settings: Settings,
    clean_db: Engine,
    tmp_path: Path,
) -> None:
    wiped = redis.Redis.from_url(own_redis.url)
    entries = len(beat_schedule(settings))
    worker = WorkerProcess("fulfil", env, tmp_path / "fulfil.log")
    worker.start()
    first = Beat(env, tmp_path / "beat-1.log")
    second: Beat | None = None
    try:
        wait_for(lambda: wiped.zcard(SCHEDULE_KEY) >= entries, 60)
        wait_for(lambda: "beat: holds the lock" in first.text(), 30)
        second = Beat(env, tmp_path / "beat-2.log")
        wait_for(lambda: "beat: standby" in second.text(), 60)
        beat_pid = first.process.pid

        shipped_at = shipped_at_now()
        with (
            project_app(own_redis.broker_url),
            web_process(env, tmp_path) as base,
            httpx.Client(base_url=base, timeout=30) as http,
        ):
            headers = {"Authorization": f"Bearer {TOKEN}"}
            for n, order in enumerate(orders):
                answer = http.post(
                    "/v1/fulfilments",
                    json=fulfilment_body(f"F-{n}", order, shipped_at),
                    headers={"Idempotency-Key": str(uuid.uuid4()), **headers},
                )
                assert answer.status_code == 201, answer.text
            probe = QueueProbe(own_redis.broker_url)
            queued = probe.depth("fulfil") or 0  # every priority step's list
            probe.close()
            wiped.flushall()
            flushed_at = time.monotonic()
            done_before = confirmed(clean_db)
            assert queued > 0 and done_before < ORDERS, "the wipe hit a queue still waiting"

            wait_for(lambda: wiped.zcard(SCHEDULE_KEY) >= entries, 20, interval_s=0.2)
            schedule_back_s = time.monotonic() - flushed_at
            wait_for(lambda: confirmed(clean_db) == ORDERS, BOUND_S + 30, interval_s=0.5)
            recovered_s = time.monotonic() - flushed_at
        print(
            f"\nbroker wipe: {queued} messages queued and {ORDERS - done_before} fulfilments "
            f"unconfirmed at the wipe; schedule back after {schedule_back_s:.1f} s; every "
            f"fulfilment confirmed {recovered_s:.1f} s after the wipe (bound {BOUND_S:.0f} s)"
        )
        assert recovered_s <= BOUND_S, f"recovered in {recovered_s:.1f} s"
        assert first.process.poll() is None and first.process.pid == beat_pid, "beat kept running"
        assert second.process.poll() is None, "the second beat kept running, standby or active"
    finally:
        for process in (second, first):
            if process is not None:
                process.stop()
        worker.stop()
        wiped.close()

    assert "LockNotOwnedError" not in first.text()
    for beat in (first, second):
        assert beat is not None
        assert sends_while_not_holding(beat.text()) == 0, beat.text()[-3000:]
    assert first.sends() + second.sends() > 0
    assert "schedule entries were gone from Redis" in first.text() + second.text()

    with clean_db.connect() as conn:
        rows = conn.execute(select(Fulfilment.id, Fulfilment.amazon_order_id)).all()
    assert len(rows) == ORDERS
    reference = {order_id: str(fid) for fid, order_id in rows}
    for order_id, _, _ in orders:
        packages = sandbox.state.order(order_id).packages
        assert len(packages) == 1, f"{order_id} has {len(packages)} packages"
        assert packages[0].package_reference_id == reference[order_id]
    calls = sandbox.state.call_log(CONFIRM_SHIPMENT, limit=10_000)
    assert len([c for c in calls if c.status < 300]) == ORDERS, "one confirmShipment each"
