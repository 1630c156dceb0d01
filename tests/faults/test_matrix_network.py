"""The fault matrix, the network (#17): through the proxy in front of Redis, then in front of
PostgreSQL, 10 s of +500 ms latency, 10 s of connections reset every 2 s, then a 20 s blackhole
(bytes held, nothing closed). No loss, no duplicate; throughput drops while it lasts and
recovers once the path heals. Each runs 30 fulfilments and orders arriving, then I1-I4. With
RabbitMQ as the broker the same three paths and the one to RabbitMQ (Redis then holds the rate
budgets and beat's schedule only)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.faults.harness.brokers import ON_RABBITMQ, on
from tests.faults.harness.proxy import TcpProxy
from tests.faults.harness.run import run_scenario
from tests.faults.harness.stack import Stack, fault_stack

pytestmark = [pytest.mark.integration, pytest.mark.faults]

INVARIANT = "I1-I3, recovered <= 60 s"


PATHS = [
    pytest.param("redis", "redis", id="redis"),
    pytest.param("redis", "postgres", id="postgres"),
    pytest.param("rabbitmq", "rabbitmq", id="rabbitmq-rabbitmq", marks=ON_RABBITMQ),
    pytest.param("rabbitmq", "redis", id="rabbitmq-redis", marks=ON_RABBITMQ),
    pytest.param("rabbitmq", "postgres", id="rabbitmq-postgres", marks=ON_RABBITMQ),
]


def degrade(proxy: TcpProxy) -> None:
    proxy.latency_s = 0.5
    time.sleep(10)
    proxy.latency_s = 0.0
    for _ in range(5):
        proxy.reset_all()
        time.sleep(2)
    with proxy.holding():
        time.sleep(20)


@pytest.mark.parametrize(("broker", "target"), PATHS)
def test_17_latency_resets_and_blackhole(tmp_path: Path, broker: str, target: str) -> None:
    def fault(s: Stack) -> None:
        proxies = {"redis": s.redis_proxy, "postgres": s.pg_proxy, "rabbitmq": s.rabbit_proxy}
        proxy = proxies[target]
        assert proxy is not None
        degrade(proxy)

    with fault_stack(tmp_path, orders=30, broker=broker) as stack:
        name = f"#17 {target}: +500 ms, resets, 20 s blackhole{on(stack)}"
        run_scenario(stack, name, INVARIANT, fault)
