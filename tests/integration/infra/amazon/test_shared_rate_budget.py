"""Processes sharing one Redis share one rate budget: the bucket script on a real Redis grants
exactly what Amazon's plan allows, neither more (leaky) nor less (timid), whoever asks.

No stopwatch: time passes for a bucket by moving its last refill back, and the operation's rate
(``searchOrders``, one call per 180 s) makes the real milliseconds a test takes worth nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from infra.amazon.models import usage_plan
from infra.amazon.ratelimit import RedisRateLimiter, bucket_params, operation_safety

pytestmark = pytest.mark.integration

SELLER = "A1SANDBOXDEMO:NA"
OPERATION = "orders2026.searchOrders"
SAFETY = 0.9
PROCESSES = 8


@pytest.fixture
def connections(redis_url: str) -> Iterator[list[redis.Redis]]:
    """One connection per would-be process."""
    clients = [redis.Redis.from_url(redis_url) for _ in range(PROCESSES)]
    yield clients
    for client in clients:
        client.close()


def held_back() -> float:
    """The fraction of the operation's rate the limiter allows: ``SAFETY``, but never a refill
    more than a couple of seconds longer (searchOrders: one call every 181 s, not 198 s)."""
    return operation_safety(SAFETY, usage_plan(OPERATION).rate)


def limiters(connections: list[redis.Redis]) -> list[RedisRateLimiter]:
    prefix = f"test:{uuid.uuid4().hex}"  # a fresh budget for this test
    return [RedisRateLimiter(c, key_prefix=prefix, safety=SAFETY) for c in connections]


def pass_time(client: redis.Redis, rl: RedisRateLimiter, seconds: float) -> None:
    """``seconds`` pass for every bucket of ``rl``: its last refill moves that far back."""
    for key in client.keys(f"{rl.key_prefix}:*bucket"):
        client.hincrbyfloat(key, "ts", -seconds)


def grants_racing(all_limiters: list[RedisRateLimiter], asks_each: int) -> int:
    """Every limiter asks ``asks_each`` times, all at once from their own threads."""
    start = threading.Barrier(len(all_limiters))
    granted: list[int] = []

    def ask(rl: RedisRateLimiter) -> None:
        start.wait()
        granted.append(sum(rl.try_acquire(SELLER, OPERATION) == 0 for _ in range(asks_each)))

    threads = [threading.Thread(target=ask, args=(rl,)) for rl in all_limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sum(granted)


def test_a_burst_asked_for_at_once_by_many_is_granted_once(
    connections: list[redis.Redis],
) -> None:
    shared = limiters(connections)
    capacity = bucket_params(usage_plan(OPERATION)).capacity
    assert grants_racing(shared, asks_each=capacity) == capacity


def test_the_refill_is_granted_whole_and_no_more_whoever_asks(
    connections: list[redis.Redis],
) -> None:
    shared = limiters(connections)
    capacity = bucket_params(usage_plan(OPERATION)).capacity
    rate = usage_plan(OPERATION).rate * held_back()
    assert grants_racing(shared, asks_each=capacity) == capacity
    pass_time(connections[0], shared[0], 7.5 / rate)  # seven and a half tokens' worth
    assert grants_racing(shared, asks_each=3) == 7
    pass_time(connections[0], shared[0], 100 * capacity / rate)  # long idle: a full bucket
    assert grants_racing(shared, asks_each=capacity) == capacity


def test_a_peek_reads_each_sellers_budget_and_takes_nothing(
    connections: list[redis.Redis],
) -> None:
    rl = limiters(connections)[0]
    params = bucket_params(usage_plan(OPERATION))
    other = "A2OTHER:NA"
    for _ in range(5):
        assert rl.try_acquire(SELLER, OPERATION) == 0
    first, untouched = rl.peek([SELLER, other], OPERATION)
    assert first.tokens == pytest.approx(params.capacity - 5, abs=0.01)
    assert untouched.tokens == params.capacity, "a seller never seen holds a full budget"
    assert first.rate == pytest.approx(params.rate * held_back())
    assert first.capacity == params.capacity
    again, _ = rl.peek([SELLER, other], OPERATION)
    assert again.tokens == pytest.approx(first.tokens, abs=0.01), "a peek takes nothing"
    pass_time(connections[0], rl, 10 / (params.rate * held_back()))
    (refilled,) = rl.peek([SELLER], OPERATION)
    assert refilled.tokens == params.capacity, "refilled, capped"


def test_a_peek_follows_a_lower_rate_amazon_applies_and_an_emptied_bucket(
    connections: list[redis.Redis],
) -> None:
    rl = limiters(connections)[0]
    default = usage_plan(OPERATION).rate
    rl.observe_rate_limit_header(SELLER, OPERATION, str(default / 2))
    rl.on_throttled(SELLER, OPERATION)
    (budget,) = rl.peek([SELLER], OPERATION)
    assert budget.rate == pytest.approx(default / 2 * held_back())
    assert budget.tokens == pytest.approx(0, abs=0.01)
