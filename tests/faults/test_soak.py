"""The soak (``make soak``; ``SOAK_MINUTES``, 10 by default; ``SOAK_SEED`` repeats a run): the
whole system on servers of its own for that long while orders keep arriving on Amazon and the
platform posts fulfilments, refunds and cancellations through the web API; every 30-60 s a
worker or beat is SIGKILLed (and started again, as is a worker that exits on its own), and once
each Redis (``kill -9``) and PostgreSQL are restarted. Then, load stopped, the system must come
to rest within 180 s with every invariant holding (I1-I3, I5-I6), each fault must have been
recovered from within 300 s (every request accepted before it final), and nothing may be
refused or failed. The summary is printed and written to ``soak-summary.txt`` in the test's tmp
dir (and to ``SOAK_SUMMARY``). ``SOAK_BROKER=rabbitmq`` runs it with a RabbitMQ node of its own as
the broker (Redis then holds the rate budgets and beat's schedule), its node killed once too."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from infra.db.tables import Fulfilment
from tests.faults.harness import rabbit
from tests.faults.harness.checker import recovery
from tests.faults.harness.refunds import KINDS, refund_states
from tests.faults.harness.soak import Chaos, Monitor, Platform, Summary, Supervisor
from tests.faults.harness.stack import Stack, fault_stack

MINUTES = float(os.environ.get("SOAK_MINUTES", "10"))
BROKER = os.environ.get("SOAK_BROKER", "redis")
# A fault's recovery includes the refund pipeline's own latency (a feed batches, Amazon processes
# it, the worker polls), about a minute at rest, and a restarted process's start on a loaded
# machine (a minute at worst); a request still open this long after a fault is stuck.
FAULT_BOUND_S = 300.0
QUIET_BOUND_S = 180.0

pytestmark = [
    pytest.mark.integration,
    pytest.mark.soak,
    pytest.mark.timeout(int(MINUTES * 60) + 1500),
]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if BROKER not in ("redis", "rabbitmq"):
        pytest.fail(f"SOAK_BROKER={BROKER!r}: it must be redis or rabbitmq", pytrace=False)
    if BROKER == "rabbitmq" and not rabbit.available():
        pytest.skip("SOAK_BROKER=rabbitmq: rabbitmq-server is not installed")
    with fault_stack(tmp_path, orders=1, broker=BROKER) as running:
        yield running


def test_soak(stack: Stack, tmp_path: Path) -> None:
    seed = int(os.environ.get("SOAK_SEED", str(int(time.time()) % 100_000)))
    stack.start_processes(refunds=True)
    monitor = Monitor(stack)
    platform = Platform(stack, seed)
    supervisor = Supervisor(stack)
    chaos = Chaos(stack, platform, monitor, supervisor, MINUTES * 60, seed)
    for thread in (monitor, platform, supervisor, chaos):
        thread.start()
    try:
        while chaos.is_alive() and platform.is_alive():
            chaos.join(timeout=1)
    finally:
        chaos.stopping.set()
        chaos.join(timeout=300)
        platform.arriving.clear()
        platform.join(timeout=400)
    ended = time.monotonic()
    assert chaos.failure is None, f"the chaos failed: {chaos.failure!r}\n{stack.logs()}"
    assert platform.failure is None, f"the platform failed: {platform.failure!r}"
    assert not platform.is_alive(), "the platform did not finish posting"
    outcome = recovery(
        stack.engine,
        stack.sandbox,
        platform.poster.ids("fulfil"),
        scenario=f"soak {MINUTES:g} min on {BROKER} (seed {seed})",
        invariant=f"I1-I3, I5-I6 at rest <= {QUIET_BOUND_S:g} s",
        fault_ended=ended,
        bound_s=QUIET_BOUND_S,
        refunds=platform.poster.ids(*KINDS),
    )
    monitor.settle()
    supervisor.stop()
    states = refund_states(stack.engine) + _fulfilment_states(stack)
    summary = Summary(
        minutes=MINUTES,
        arrived=platform.arrived,
        accepted={k: len(v) for k, v in platform.poster.accepted.items()},
        states=states,
        kills=chaos.kills,
        exits=supervisor.exits,
        restarts=chaos.restarts + _beat_restarts(stack),
        faults=monitor.faults,
        outcome=outcome,
        retries=platform.poster.retries,
        refused=platform.poster.refused,
    )
    text = summary.text()
    print(text)
    (tmp_path / "soak-summary.txt").write_text(text + "\n", encoding="utf-8")
    if os.environ.get("SOAK_SUMMARY"):
        Path(os.environ["SOAK_SUMMARY"]).write_text(text + "\n", encoding="utf-8")
    assert not platform.poster.refused, f"requests refused: {platform.poster.refused}"
    assert not platform.unsynced, f"orders never synced: {platform.unsynced[:5]}"
    assert outcome.passed, f"{outcome.line()}\n{stack.logs()}"
    slow = [f for f in monitor.faults if f.recovered_s is None or f.recovered_s > FAULT_BOUND_S]
    assert not slow, f"faults not recovered from within {FAULT_BOUND_S:g} s: {slow}"
    failed = [state for state in states if state.endswith("/failed")]
    assert not failed, f"failed in the store: {states}\n{stack.logs()}"


def _fulfilment_states(stack: Stack) -> Counter[str]:
    with stack.engine.connect() as conn:
        rows = conn.execute(select(Fulfilment.state, func.count()).group_by(Fulfilment.state)).all()
    return Counter({f"fulfilment/{state}": int(n) for state, n in rows})


def _beat_restarts(stack: Stack) -> Counter[str]:
    restarts = stack.beat.restarts if stack.beat is not None else 0
    return Counter({"beat (by its supervisor)": restarts} if restarts else {})
