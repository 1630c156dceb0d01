"""What the lease runs share (``tests/faults/test_lease_fence.py`` and the fast one in
``tests/integration/workers/tasks``): a fulfilment accepted in the store with no message queued
(the test sends ``fulfil.confirm`` itself, with the task id it chooses), a worker caught holding
its lease before it calls Amazon, beat's fulfilment sweep at its scheduled period, and the
fulfilment's row as the store has it."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import Engine, select

from domain.fulfilments import Accepted, accept_fulfilment
from infra.amazon.client import new_limiter
from infra.amazon.ratelimit import RedisRateLimiter
from infra.amazon.sandbox.server import SandboxHandle
from infra.db.tables import Fulfilment, SellerAccount
from infra.settings import Settings
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.scenarios import CONFIRM_SHIPMENT, fulfilment_body
from workers import bootstrap
from workers.doors.fulfilments import read_request
from workers.schedule import beat_schedule


@dataclass(frozen=True)
class Row:
    state: str
    attempts: int
    lease_owner: str | None


def row(engine: Engine, fulfilment_id: int) -> Row:
    with engine.connect() as conn:
        found = conn.execute(
            select(Fulfilment.state, Fulfilment.attempts, Fulfilment.lease_owner).where(
                Fulfilment.id == fulfilment_id
            )
        ).one()
    return Row(found.state, found.attempts, found.lease_owner)


def accepted_fulfilment(
    settings: Settings, order: tuple[str, str, int], platform_id: str, shipped_at: datetime
) -> int:
    """The fulfilment taken in as the API would, but with no confirmation queued."""
    container = bootstrap.use(settings)
    try:
        request = read_request(fulfilment_body(platform_id, order, shipped_at))
        result = accept_fulfilment(request, container.fulfilment_store, container.clock)
    finally:
        bootstrap.reset_and_close()
    assert isinstance(result, Accepted), result
    return result.fulfilment.id


def empty_confirm_budget(settings: Settings, redis_url: str, engine: Engine) -> float:
    """Empty our shared confirmShipment bucket for the seller, as Amazon's 429 would: the next
    attempt waits (up to the worker's two seconds) for a token before it calls. Returns the
    seconds until that token."""
    with engine.connect() as conn:
        account = conn.execute(select(SellerAccount.selling_partner_id, SellerAccount.region)).one()
    client = redis.Redis.from_url(redis_url)
    try:
        limiter = new_limiter(settings, client)
        assert isinstance(limiter, RedisRateLimiter)
        key = f"{account.selling_partner_id}:{account.region}"
        wait = limiter.on_throttled(key, CONFIRM_SHIPMENT)
    finally:
        client.close()
    assert wait is not None
    return wait


def stop_once_claimed(worker: WorkerProcess, engine: Engine, fulfilment_id: int) -> None:
    """SIGSTOP the whole worker (main process and pool child) as soon as the claim is committed:
    it then holds the lease and waits for a rate-budget token, before any call to Amazon."""
    wait_for(lambda: row(engine, fulfilment_id).state == "sending", 30, interval_s=0.01)
    assert worker.process is not None
    os.killpg(worker.process.pid, signal.SIGSTOP)


def resume(worker: WorkerProcess) -> None:
    assert worker.process is not None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.process.pid, signal.SIGCONT)


def sweep_period(settings: Settings) -> float:
    return float(beat_schedule(settings)["sweep-fulfilments"]["schedule"])


@contextlib.contextmanager
def beat_sweeping(app: Any, period_s: float) -> Iterator[None]:
    """Beat's ``fulfil.sweep`` tick at ``period_s``, as production schedules it."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(period_s):
            app.send_task("fulfil.sweep")

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def confirm_shipment_calls(sandbox: SandboxHandle) -> int:
    """confirmShipment calls the sandbox received (each test sends one order's)."""
    return len(sandbox.state.call_log(CONFIRM_SHIPMENT, limit=10_000))
