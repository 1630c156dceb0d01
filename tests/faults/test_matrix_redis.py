"""The fault matrix, Redis (the broker and the rate budgets): a clean restart with its AOF
(#8), a ``kill -9`` mid-load and a restart (#9, AOF ``everysec``: a process crash loses at most
the last second, and what the store accepted but the broker lost is swept again), a hung Redis
(#11: SIGSTOP 20 s, then SIGCONT), and the broker's connection dropped 5 s mid-task (#22). Each
runs 30 fulfilments through the web API and orders arriving on Amazon, then checks I1-I4."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness.run import run_scenario
from tests.faults.harness.stack import Stack, fault_stack

pytestmark = [pytest.mark.integration, pytest.mark.faults]

INVARIANT = "I1-I3, recovered <= 60 s"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with fault_stack(tmp_path, orders=30) as running:
        yield running


def test_08_redis_clean_restart_loses_nothing(stack: Stack) -> None:
    def restart(s: Stack) -> None:
        s.redis.shutdown()
        time.sleep(2)
        s.redis.start()

    run_scenario(stack, "#8 Redis clean restart (AOF)", INVARIANT, restart)


def test_09_redis_kill_9_mid_load_loses_nothing(stack: Stack) -> None:
    def crash(s: Stack) -> None:
        s.redis.kill()
        time.sleep(2)
        s.redis.start()

    run_scenario(stack, "#9 Redis kill -9 + restart", INVARIANT, crash)


def test_11_redis_hung_20_s_then_resumed(stack: Stack) -> None:
    def hang(s: Stack) -> None:
        s.redis.pause()
        time.sleep(20)
        s.redis.resume()

    run_scenario(stack, "#11 Redis SIGSTOP 20 s, SIGCONT", INVARIANT, hang)


def test_22_broker_connection_dropped_5_s_mid_task(stack: Stack) -> None:
    def drop(s: Stack) -> None:
        with s.redis_proxy.dropped():
            time.sleep(5)

    run_scenario(stack, "#22 broker connection dropped 5 s", INVARIANT, drop)


def test_08_beat_survives_a_redis_restart_on_its_own(stack: Stack) -> None:
    def restart(s: Stack) -> None:
        s.redis.shutdown()
        time.sleep(2)
        s.redis.start()

    run_scenario(
        stack, "#8b Redis restart, beat unsupervised", INVARIANT, restart, supervised=False
    )
