"""The fast lease run (the long ones are ``tests/faults/test_lease_fence.py``): a copy of a
``fulfil.confirm`` message with the same task id, delivered while its first copy holds the lease
(here: SIGSTOPped waiting for a rate-budget token, before it calls Amazon), leaves without
calling; the first, resumed while its lease is live, confirms. One call, one package."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.settings import Settings
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.leases import (
    accepted_fulfilment,
    confirm_shipment_calls,
    empty_confirm_budget,
    resume,
    row,
    stop_once_claimed,
)
from tests.integration.workers.scenarios import (
    CONFIRM_SHIPMENT,
    fulfil_env,
    on_sandbox,
    project_app,
    shipped_at_now,
    synced_merchant_orders,
)
from workers.demo import ensure_demo_account

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        CONFIRM_SHIPMENT not in SERVED_OPERATIONS,
        reason="the sandbox does not serve confirmShipment yet",
    ),
]

RATE_FACTOR = 0.3  # a confirmShipment token every 1.7 s: an emptied budget makes a worker wait


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    with project_app(broker_url) as app:
        yield app


def test_a_copy_of_the_message_stays_out_of_a_live_lease_and_the_holder_confirms_once(
    sandbox: SandboxHandle,
    child_env: dict[str, str],
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_url: str,
    clean_db: Engine,
    tmp_path: Path,
    celery_app: Any,
) -> None:
    on_amazon = on_sandbox(settings, sandbox, RATE_FACTOR)
    ensure_demo_account(session_factory)
    (order,) = synced_merchant_orders(sandbox, on_amazon, 1)
    fid = accepted_fulfilment(on_amazon, order, "F-COPY", shipped_at_now())
    env = fulfil_env(child_env, sandbox, RATE_FACTOR)
    first = WorkerProcess("fulfil", env, tmp_path / "first.log")
    second = WorkerProcess("fulfil", env, tmp_path / "second.log")
    first.start()
    task_id = str(uuid.uuid4())
    try:
        assert empty_confirm_budget(on_amazon, redis_url, clean_db) > 0.5
        celery_app.send_task("fulfil.confirm", args=[fid], queue="fulfil", task_id=task_id)
        # The second boots while the first takes the message (it is consuming already).
        booting = threading.Thread(target=second.start, daemon=True)
        booting.start()
        stop_once_claimed(first, clean_db, fid)
        holder = row(clean_db, fid).lease_owner
        assert holder is not None and task_id not in holder, "the lease is the attempt's"
        booting.join(timeout=60)
        celery_app.send_task("fulfil.confirm", args=[fid], queue="fulfil", task_id=task_id)
        wait_for(lambda: "'skipped'" in second.log_text(), 20, interval_s=0.1)
        assert confirm_shipment_calls(sandbox) == 0
        resume(first)
        wait_for(lambda: row(clean_db, fid).state == "confirmed", 20, interval_s=0.1)
    finally:
        resume(first)
        first.stop()
        second.stop()
    assert confirm_shipment_calls(sandbox) == 1
    assert len(sandbox.state.order(order[0]).packages) == 1
    assert row(clean_db, fid).attempts == 1, "the copy never claimed it"
