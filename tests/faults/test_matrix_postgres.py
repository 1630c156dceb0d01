"""The fault matrix, PostgreSQL (the store): restarted mid-load with ``pg_ctl restart -m fast``
and ``-m immediate`` (#12: the tasks in flight fail and are retried; each phase is one
transaction, so nothing is half applied), and down for 30 s (#13: the web answers 5xx and the
platform retries, the tasks back off, nothing is acked as done without its commit, and the
backlog drains once it is back). Each runs 30 fulfilments and orders arriving, then I1-I4, on
Redis and on RabbitMQ as the broker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness.brokers import BROKERS, on
from tests.faults.harness.run import run_scenario
from tests.faults.harness.settled import settle
from tests.faults.harness.stack import Stack, fault_stack

pytestmark = [pytest.mark.integration, pytest.mark.faults]

INVARIANT = "I1-I3, recovered <= 60 s"


@pytest.fixture(params=BROKERS)
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    with fault_stack(tmp_path, orders=30, broker=request.param) as running:
        yield running


@pytest.fixture(params=BROKERS)
def settled_stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """On a broker an hour old (``settle``): what nobody claimed waits for the sweeper."""
    with fault_stack(tmp_path, orders=30, broker=request.param) as running:
        settle(running)
        yield running


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_12_postgres_restart_mid_load(stack: Stack, mode: str) -> None:
    def restart(s: Stack) -> None:
        s.postgres.restart(mode)

    run_scenario(stack, f"#12 PostgreSQL restart -m {mode}{on(stack)}", INVARIANT, restart)


def test_13_postgres_down_30_s(settled_stack: Stack) -> None:
    """A fulfilment taken in just before the stop finds the store gone: its task comes back
    every 6-12 s while it is down (an outage's own retries, ``workers.base``), and the sweeper
    queues what was never sent soon after the store is back (``SWEEP_AFTER``)."""

    def down(s: Stack) -> None:
        s.postgres.stop("fast")
        time.sleep(30)
        s.postgres.start()

    run_scenario(settled_stack, f"#13 PostgreSQL down 30 s{on(settled_stack)}", INVARIANT, down)
