"""The fault matrix's fast subset, run by ``make test`` (not marked ``faults``): Redis killed
with ``kill -9`` under an idle fulfil worker and restarted from its AOF, then fulfilments
posted through the web: the worker has reconnected and consumes them (I1, I2), within the bound.
The slow scenarios, with beat and load during the fault, are the ``test_matrix_*`` modules."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness.checker import recovery
from tests.faults.harness.stack import Load, Stack, fault_stack
from tests.integration.processes import WorkerProcess

pytestmark = [pytest.mark.integration]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with fault_stack(tmp_path, orders=5) as running:
        yield running


def test_fulfil_worker_consumes_again_after_redis_kill_9(stack: Stack) -> None:
    worker = WorkerProcess("fulfil", stack.env, stack.root / "worker-fulfil.log")
    worker.start()
    stack.workers["fulfil"] = worker
    stack.redis.kill()
    stack.redis.start()
    ended = time.monotonic()
    load = Load(stack, stack.orders, pace_s=0).start()
    load.join(30)
    outcome = recovery(
        stack.engine,
        stack.sandbox,
        load.accepted,
        scenario="#9 (fast) Redis kill -9 under an idle worker",
        invariant="I1-I2, consumed again <= 20 s",
        fault_ended=ended,
        bound_s=20,
    )
    assert outcome.passed, f"{outcome.line()}\n{stack.logs()}"
