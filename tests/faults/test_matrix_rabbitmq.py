"""The fault matrix with RabbitMQ as the broker (quorum queues, publisher confirms; Redis still
serves the rate budgets and RedBeat): the Redis matrix's broker scenarios on a RabbitMQ node
the run owns, each with 30 fulfilments through the web API and orders arriving on Amazon, then
I1-I4 checked.

- #8 clean restart, #9 ``kill -9`` + restart: every confirmed message is kept (durable queues,
  persistent messages, each written before its confirm). The fulfil worker is held so that
  confirmations wait on its queue when the node goes: a lost one would wait out the sweeper's
  10 minutes and fail the bound.
- #11 the node hung (SIGSTOP 20 s, then SIGCONT).
- #22 the broker's connection dropped 5 s mid-task: the consumers' unacked messages are
  requeued at once (no visibility timeout to wait out).
- #8w the node's data lost (mnesia wiped while confirmations wait, the node started empty): the
  marker queue is gone with it, so the sweepers republish at once what was accepted and not
  finished.
- #9r and #10r Redis (the rate budgets, beat's lock and schedule, the epoch's keeper: no longer
  the broker) killed with ``kill -9`` and restarted, and wiped with ``FLUSHALL``: beat takes
  its lock again and rebuilds its schedule, and the broker's messages are all still there (a
  keeper that lost the epoch's time reads "long ago": nothing is republished for it)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.broker import QueueProbe
from tests.faults.harness import rabbit
from tests.faults.harness.run import run_scenario
from tests.faults.harness.stack import Stack, fault_stack
from tests.integration.processes import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.faults,
    pytest.mark.skipif(not rabbit.available(), reason="rabbitmq-server is not installed"),
]

INVARIANT = "I1-I3, recovered <= 60 s"
WAITING = 5  # confirmations on the fulfil queue when the wipe takes them


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with fault_stack(tmp_path, orders=30, broker="rabbitmq") as running:
        yield running


def node(stack: Stack) -> rabbit.RabbitServer:
    assert stack.rabbit is not None
    return stack.rabbit


@contextlib.contextmanager
def confirmations_waiting(s: Stack) -> Iterator[None]:
    """The fulfil worker held (SIGSTOP) until ``WAITING`` confirmations wait on its queue, and
    resumed when the fault inside has ended: the fault then meets messages on the broker, and a
    lost one would wait for the sweeper's 10 minutes (the bound would fail)."""
    worker = s.workers["fulfil"].process
    assert worker is not None
    os.killpg(worker.pid, signal.SIGSTOP)
    try:
        probe = QueueProbe(node(s).url)
        try:
            wait_for(lambda: (probe.depth("fulfil") or 0) >= WAITING, 30)
        finally:
            probe.close()
        yield
    finally:
        os.killpg(worker.pid, signal.SIGCONT)


def test_08_rabbitmq_clean_restart_loses_nothing(stack: Stack) -> None:
    def restart(s: Stack) -> None:
        with confirmations_waiting(s):
            node(s).shutdown()
            time.sleep(2)
            node(s).start()

    run_scenario(stack, "#8 RabbitMQ clean restart (quorum)", INVARIANT, restart)


def test_09_rabbitmq_kill_9_mid_load_loses_nothing(stack: Stack) -> None:
    def crash(s: Stack) -> None:
        with confirmations_waiting(s):
            node(s).kill()
            time.sleep(2)
            node(s).start()

    run_scenario(stack, "#9 RabbitMQ kill -9 + restart", INVARIANT, crash)


def test_11_rabbitmq_hung_20_s_then_resumed(stack: Stack) -> None:
    def hang(s: Stack) -> None:
        node(s).pause()
        time.sleep(20)
        node(s).resume()

    run_scenario(stack, "#11 RabbitMQ SIGSTOP 20 s, SIGCONT", INVARIANT, hang)


def test_22_rabbitmq_connection_dropped_5_s_mid_task(stack: Stack) -> None:
    def drop(s: Stack) -> None:
        assert s.rabbit_proxy is not None
        with s.rabbit_proxy.dropped():
            time.sleep(5)

    run_scenario(stack, "#22 RabbitMQ connection dropped 5 s", INVARIANT, drop)


def test_08w_rabbitmq_lost_its_data_and_the_sweepers_republish(stack: Stack) -> None:
    """The node's data wiped while confirmations wait: they are gone with it, and only the
    marker queue's loss makes the sweeper send them again in time."""

    def wipe(s: Stack) -> None:
        with confirmations_waiting(s):
            node(s).wipe()
            time.sleep(2)
            node(s).start()

    run_scenario(stack, "#8w RabbitMQ data lost (mnesia wiped)", INVARIANT, wipe)


def test_09r_redis_kill_9_while_rabbitmq_is_the_broker(stack: Stack) -> None:
    def crash(s: Stack) -> None:
        s.redis.kill()
        time.sleep(2)
        s.redis.start()

    run_scenario(stack, "#9r Redis kill -9 (RabbitMQ the broker)", INVARIANT, crash)


def test_10r_redis_wiped_while_rabbitmq_is_the_broker(stack: Stack) -> None:
    def wipe(s: Stack) -> None:
        client = s.redis.client()
        try:
            client.flushall()
        finally:
            client.close()

    run_scenario(stack, "#10r Redis FLUSHALL (RabbitMQ the broker)", INVARIANT, wipe)
