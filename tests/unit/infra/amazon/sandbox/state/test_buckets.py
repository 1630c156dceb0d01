"""Token buckets: Amazon's meter per seller and operation, driven without sleeping."""

from __future__ import annotations

from infra.amazon.models import usage_plan
from infra.amazon.sandbox.state import SandboxState, TokenBucket


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket(rate=0.5, burst=3, now=0.0)

    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(1.0) is False  # half a token
    assert bucket.take(2.0) is True
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # capped at burst


def test_rate_factor_speeds_up_the_refill_but_keeps_the_burst() -> None:
    clock = FakeMonotonic()
    state = SandboxState(rate_factor=10, monotonic=clock)
    plan = usage_plan("orders2026.searchOrders")
    op = "orders2026.searchOrders"

    burst = [state.take_token("S", op) for _ in range(plan.burst + 1)]
    clock.now += 1 / (plan.rate * 10)
    refilled = state.take_token("S", op)

    assert burst == [True] * plan.burst + [False]
    assert refilled is True
    assert state.take_token("OTHER", op) is True  # buckets are per seller
    assert state.rate_limit_header(op) == f"{plan.rate:g}"


def test_rate_factor_zero_never_throttles() -> None:
    state = SandboxState(rate_factor=0)

    assert all(state.take_token("S", "orders2026.searchOrders") for _ in range(500))
