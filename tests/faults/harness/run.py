"""A scenario's shape: the processes up, the load posting, the fault injected once a few
fulfilments went through (and new orders arrived on Amazon), then the recovery measured from
the fault's end and the line ``scenario | invariant | outcome | recovery s`` printed."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.faults.harness.checker import DEFAULT_BOUND_S, Outcome, recovery
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
) -> Outcome:
    """``fault(stack)`` returns when the fault has ended (the server back, the path healed),
    with the platform ids it had accepted itself, if any (from the last ``reserve`` orders,
    which the load leaves to it)."""
    stack.start_processes(with_beat=with_beat, supervised=supervised)
    load = Load(stack, stack.orders[: len(stack.orders) - reserve]).start()
    confirmed_at_least(stack, after_confirmed)
    stack.arrive(10, seed=int(time.monotonic()) % 10_000)
    accepted_by_fault = fault(stack) or set()
    ended = time.monotonic()
    load.join()
    assert len(load.accepted) == len(stack.orders) - reserve
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
    )
    assert outcome.passed, f"{outcome.line()}\n{stack.logs()}"
    return outcome
