"""The checks after a fault: what the store holds against what the sandbox (Amazon) holds.

- I1: every accepted fulfilment (a 201 from the web) is stored once and is in a final state
  (``confirmed`` or ``failed``), none left ``accepted`` or ``sending``.
- I2: at most one effective shipment per package at the sandbox: each order has at most one
  package, and it carries the fulfilment's own reference (a resend edits it, never adds one).
- I3: no order missing: every order the sandbox holds for the seller is in the store.
- I4: the recovery time, from the fault's end until I1-I3 hold, measured and within its bound.
- I5, I6 (a run that posts refunds and cancellations passes their accepted ids): each stored
  once and final; at most one adjustment per refund line at the sandbox
  (``tests.faults.harness.refunds``).

``Outcome.line()`` is the one line each scenario prints (and the session's summary repeats):
``scenario | invariant | outcome | recovery s``; with ``FAULT_MATRIX_RESULTS`` set, each line
is appended to that file too (under pytest-xdist the session's summary sees none of them).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from infra.amazon.sandbox.server import SandboxHandle
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.tables import Fulfilment, Order
from tests.faults.harness.refunds import check_refunds

FINAL = frozenset({"confirmed", "failed"})
DEFAULT_BOUND_S = 60.0
# Every scenario's line, in the order run; the faults conftest prints them at the session's end.
RESULTS: list[str] = []


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.problems


def check(
    engine: Engine,
    sandbox: SandboxHandle,
    accepted: set[str],
    refunds: set[str] | None = None,
) -> Verdict:
    """I1-I3 now (and I5-I6 with ``refunds``); each problem named (the first few of each
    kind)."""
    verdict = Verdict()
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Fulfilment.id,
                Fulfilment.platform_fulfilment_id,
                Fulfilment.amazon_order_id,
                Fulfilment.state,
            )
        ).all()
        stored_orders = set(conn.execute(select(Order.amazon_order_id)).scalars())
    by_platform: dict[str, list[object]] = {}
    for row in rows:
        by_platform.setdefault(row.platform_fulfilment_id, []).append(row)
    missing = sorted(accepted - by_platform.keys())
    twice = sorted(p for p, found in by_platform.items() if len(found) > 1)
    open_ = sorted(r.platform_fulfilment_id for r in rows if r.state not in FINAL)
    if missing:
        verdict.problems.append(f"I1: accepted but not stored: {missing[:5]}")
    if twice:
        verdict.problems.append(f"I1: stored twice: {twice[:5]}")
    if open_:
        verdict.problems.append(f"I1: {len(open_)} not final, e.g. {open_[:5]}")
    state = sandbox.state
    reference = {r.amazon_order_id: str(r.id) for r in rows}
    extra = []
    for order_id, fulfilment_id in reference.items():
        packages = state.order(order_id).packages
        if len(packages) > 1 or any(p.package_reference_id != fulfilment_id for p in packages):
            extra.append(f"{order_id}: {[p.package_reference_id for p in packages]}")
    if extra:
        verdict.problems.append(f"I2: packages not one per fulfilment: {extra[:5]}")
    amazon = {o.order_id for o in state.orders_of(DEMO_SELLER.seller_id)}
    absent = sorted(amazon - stored_orders)
    if absent:
        verdict.problems.append(f"I3: {len(absent)} orders not in the store, e.g. {absent[:3]}")
    if refunds is not None:
        verdict.problems.extend(check_refunds(engine, sandbox, refunds))
    return verdict


@dataclass
class Outcome:
    scenario: str
    invariant: str
    recovery_s: float | None
    bound_s: float
    verdict: Verdict

    @property
    def passed(self) -> bool:
        return (
            self.verdict.holds and self.recovery_s is not None and self.recovery_s <= self.bound_s
        )

    def line(self) -> str:
        if self.passed:
            outcome = "pass"
        else:
            outcome = "FAIL: " + "; ".join(self.verdict.problems or ["bound exceeded"])
        recovery = f"{self.recovery_s:.1f}" if self.recovery_s is not None else f">{self.bound_s:g}"
        return f"{self.scenario} | {self.invariant} | {outcome} | {recovery}"


def recovery(
    engine: Engine,
    sandbox: SandboxHandle,
    accepted: set[str],
    *,
    scenario: str,
    invariant: str,
    fault_ended: float,
    bound_s: float = DEFAULT_BOUND_S,
    refunds: set[str] | None = None,
) -> Outcome:
    """Poll I1-I3 from ``fault_ended`` (``time.monotonic()``) until they hold or the bound (plus
    a grace, so an overrun is measured, not cut off) has passed; the line printed and kept."""
    deadline = fault_ended + bound_s * 1.5
    verdict = check(engine, sandbox, accepted, refunds)
    while not verdict.holds and time.monotonic() < deadline:
        time.sleep(0.5)
        verdict = check(engine, sandbox, accepted, refunds)
    took = max(0.0, time.monotonic() - fault_ended) if verdict.holds else None
    outcome = Outcome(scenario, invariant, took, bound_s, verdict)
    RESULTS.append(outcome.line())
    print(outcome.line())
    target = os.environ.get("FAULT_MATRIX_RESULTS")  # one file for every xdist process
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(outcome.line() + "\n")
    return outcome
