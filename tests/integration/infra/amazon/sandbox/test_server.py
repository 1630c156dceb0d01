"""Running the sandbox: the demo generator, and ``serve`` as a process that stops on a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from infra.amazon.sandbox.demo_sellers import add_demo_sellers, demo_sellers
from infra.amazon.sandbox.server import DemoGenerator
from infra.amazon.sandbox.state import DEMO_SELLER, SandboxState

pytestmark = pytest.mark.integration


def test_the_demo_generator_makes_orders_searches_see_at_once() -> None:
    state = SandboxState(rate_factor=0)
    demo = DemoGenerator(state, orders_per_minute=60, seed=3)
    for _ in range(40):
        demo.tick()

    orders = list(state.orders.values())
    assert len(orders) == 40
    assert all(state.now() - o.created_at >= timedelta(minutes=2) for o in orders)
    assert len({o.marketplace_id for o in orders}) > 1
    assert {o.fulfilled_by for o in orders} == {"MERCHANT", "AMAZON"}
    assert any(len(o.items) > 1 for o in orders)


def test_with_several_demo_sellers_each_gets_orders_in_its_own_marketplaces() -> None:
    state = SandboxState(rate_factor=0)
    add_demo_sellers(state, 3)
    sellers = (DEMO_SELLER.seller_id, *(s.seller_id for s in demo_sellers(3)))
    demo = DemoGenerator(state, orders_per_minute=60, seed=3, sellers=sellers)
    for _ in range(60):
        demo.tick()

    by_seller = {seller: state.orders_of(seller) for seller in sellers}
    assert all(by_seller.values()), {s: len(o) for s, o in by_seller.items()}
    for seller, orders in by_seller.items():
        allowed = set(state.seller(seller).marketplace_ids)
        assert {o.marketplace_id for o in orders} <= allowed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_runs_until_a_signal_and_exits_cleanly(sig: signal.Signals) -> None:
    port = _free_port()
    code = (
        "from infra.amazon.sandbox.server import serve; "
        f"serve('127.0.0.1', {port}, rate_factor=0, demo_orders_per_minute=600)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=os.getcwd(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                state = httpx.get(f"http://127.0.0.1:{port}/_sandbox/state").json()
                if state["orders"] > 0:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        process.send_signal(sig)
        assert process.wait(timeout=10) == 0
        assert state.get("orders", 0) > 0  # the demo generator ran
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_demo_closes_its_sellers_periods_so_a_demo_shows_settlements() -> None:
    state = SandboxState(rate_factor=0)
    demo = DemoGenerator(state, orders_per_minute=60, seed=4, settle_every_s=600)
    for _ in range(30):
        demo.tick()
    state.advance_clock(180)

    made = demo.settle()
    again = demo.settle()  # nothing new in the period since: nothing to close

    assert made >= 1
    assert len(state.reports.of_seller(DEMO_SELLER.seller_id)) == made
    assert again == 0
