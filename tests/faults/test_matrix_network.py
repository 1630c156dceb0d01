"""The fault matrix, the network (#17): through the proxy in front of Redis, then in front of
PostgreSQL, 10 s of +500 ms latency, 10 s of connections reset every 2 s, then a 20 s blackhole
(bytes held, nothing closed). No loss, no duplicate; throughput drops while it lasts and
recovers once the path heals. Each runs 30 fulfilments and orders arriving, then I1-I4."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness.proxy import TcpProxy
from tests.faults.harness.run import run_scenario
from tests.faults.harness.stack import Stack, fault_stack

pytestmark = [pytest.mark.integration, pytest.mark.faults]

INVARIANT = "I1-I3, recovered <= 60 s"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with fault_stack(tmp_path, orders=30) as running:
        yield running


def degrade(proxy: TcpProxy) -> None:
    proxy.latency_s = 0.5
    time.sleep(10)
    proxy.latency_s = 0.0
    for _ in range(5):
        proxy.reset_all()
        time.sleep(2)
    with proxy.holding():
        time.sleep(20)


@pytest.mark.parametrize("target", ["redis", "postgres"])
def test_17_latency_resets_and_blackhole(stack: Stack, target: str) -> None:
    def fault(s: Stack) -> None:
        degrade(s.redis_proxy if target == "redis" else s.pg_proxy)

    run_scenario(stack, f"#17 {target}: +500 ms, resets, 20 s blackhole", INVARIANT, fault)
