"""A scenario's shape: the processes up, the load posting, the fault injected once a few
fulfilments went through (and new orders arrived on Amazon), then the recovery measured from
the fault's end and the line ``scenario | invariant | outcome | recovery s`` printed. With
``refunds``, that many orders of their own arrive on Amazon first and the platform refunds or
cancels each through the web while the fault runs (a refund worker added), checked too (I5-I6)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from tests.faults.harness.checker import DEFAULT_BOUND_S, Outcome, recovery
from tests.faults.harness.refunds import KINDS, RefundLoad, arrive, refund_states
from tests.faults.harness.soak import Supervisor
from tests.faults.harness.stack import Load, Stack, confirmed_at_least


def run_scenario(
    stack: Stack,
    scenario: str,
    invariant: str,
    fault: Callable[[Stack], set[str] | None],
    *,
    bound_s: float = DEFAULT_BOUND_S,
    after_confirmed: int = 5,
    with_beat: bool = True,
    supervised: bool = True,
    reserve: int = 0,
    refunds: int = 0,
) -> Outcome:
    """``fault(stack)`` returns when the fault has ended (the server back, the path healed),
    with the platform ids it had accepted itself, if any (from the last ``reserve`` orders,
    which the load leaves to it)."""
    kinds = [KINDS[n % len(KINDS)] for n in range(refunds)]
    planned = arrive(stack.sandbox, kinds, random.Random(refunds), "M", 0)
    stack.start_processes(with_beat=with_beat, supervised=supervised, refunds=bool(refunds))
    load = Load(stack, stack.orders[: len(stack.orders) - reserve]).start()
    refund_load = RefundLoad(stack.engine, stack.web, planned).start()
    # A worker that exits on its own is started again, as a deployment's supervisor does (a
    # broker restart can end a refund worker holding messages with a countdown: see soak).
    supervisor = Supervisor(stack)
    if refunds:
        supervisor.start()
    confirmed_at_least(stack, after_confirmed)
    stack.arrive(10, seed=int(time.monotonic()) % 10_000)
    accepted_by_fault = fault(stack) or set()
    ended = time.monotonic()
    load.join()
    refund_load.join()
    assert len(load.accepted) == len(stack.orders) - reserve
    assert len(refund_load.accepted) == refunds
    restarts = stack.beat.restarts if stack.beat is not None else 0
    if restarts:
        invariant = f"{invariant} (beat restarted {restarts}x, as the supervisor does)"
    outcome = recovery(
        stack.engine,
        stack.sandbox,
        load.accepted | accepted_by_fault,
        scenario=scenario,
        invariant=invariant,
        fault_ended=ended,
        bound_s=bound_s,
        refunds=refund_load.accepted if refunds else None,
    )
    if refunds:
        supervisor.stop()
    exits = sum(supervisor.exits.values())
    assert outcome.passed, f"{outcome.line()}\n{stack.logs()}"
    if exits:
        print(f"{scenario}: workers that exited on their own, started again: {supervisor.exits}")
    failed = [state for state in refund_states(stack.engine) if state.endswith("/failed")]
    assert not failed, f"Amazon refused refunds it should take: {refund_states(stack.engine)}"
    return outcome
