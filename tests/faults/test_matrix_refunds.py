"""The fault matrix, refunds and cancellations (their feeds): 24 of them posted through the web
beside the 30 fulfilments, a refund worker added. The refund worker SIGKILLed mid-feed (#25:
once Amazon has a feed of it, restarted at once; its submission's lease runs out and the sweep
moves the feed on, each line adjusted once; its bound is ``KILL_BOUND_S``), and the broker
killed with ``kill -9`` while they flow (#26). Each then checks I1-I6: every refund in a final
state, at most one adjustment per line; on Redis and on RabbitMQ as the broker (a countdown then
waits in RabbitMQ's delayed delivery, not in a worker)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.feeds.submit import FeedPolicy
from infra.amazon.sandbox.feeds.processing import FEED_STEP
from tests.faults.harness.brokers import BROKERS, on
from tests.faults.harness.run import run_scenario
from tests.faults.harness.stack import Stack, fault_stack
from tests.integration.processes import wait_for
from workers.leases import LEASE
from workers.schedule import SWEEP_REFUNDS_S

pytestmark = [pytest.mark.integration, pytest.mark.faults]

INVARIANT = "I1-I6, recovered <= 90 s"
REFUNDS = 24
CREATE_FEED = "feeds.createFeed"
# #25's bound. A kill can land between a submission's ``creating`` record and its createFeed
# (the worker sends three feeds in a few milliseconds each): no feed reaches Amazon, and since
# Amazon takes no idempotency key on createFeed, only a listing older than its listing delay
# (``FeedPolicy.settle``, 2 min) proves that; the refunds then go in a later feed. So: the dead
# worker's lease, the sweep that finds it free, that delay, the later feed's own processing
# (two of the sandbox's status steps: it is seen DONE on the poll after 60 s), then 30 s.
KILL_BOUND_S = (
    LEASE.total_seconds()
    + SWEEP_REFUNDS_S
    + FeedPolicy().settle.total_seconds()
    + 2 * FEED_STEP.total_seconds()
    + 30
)
# The stack's set-up and load, then the bound with the checker's grace (an overrun is measured).
TEST_TIMEOUT_S = 120 + KILL_BOUND_S * 1.5


@pytest.fixture(params=BROKERS)
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    with fault_stack(tmp_path, orders=30, broker=request.param) as running:
        yield running


@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_25_refund_worker_killed_mid_feed(stack: Stack) -> None:
    def kill_mid_feed(s: Stack) -> None:
        wait_for(lambda: len(s.sandbox.state.call_log(CREATE_FEED, limit=100)) >= 1, 90, 0.05)
        s.workers["refund"].kill()
        s.workers["refund"].start()

    name = f"#25 refund worker SIGKILL mid-feed{on(stack)}"
    invariant = f"I1-I6, recovered <= {KILL_BOUND_S:.0f} s"
    run_scenario(stack, name, invariant, kill_mid_feed, bound_s=KILL_BOUND_S, refunds=REFUNDS)


def test_26_broker_kill_9_while_refunds_flow(stack: Stack) -> None:
    def crash(s: Stack) -> None:
        server = s.rabbit if s.rabbit is not None else s.redis
        server.kill()
        time.sleep(2)
        server.start()

    name = "#26 RabbitMQ kill -9 with refunds" if stack.rabbit else "#26 Redis kill -9 with refunds"
    run_scenario(stack, name, INVARIANT, crash, bound_s=90, refunds=REFUNDS)
