"""The shared token bucket: the Lua script on fakeredis (with lupa), the in-process twin, none.

fakeredis answers ``TIME`` from the real clock, so nothing here sleeps: time passes for a bucket
by moving its last refill back (``pass_time``), and the rates are slow enough (Amazon's own) that
the microseconds a test really takes are worth far less than a token.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable, Iterator

import fakeredis
import pytest
import redis

from infra.amazon.errors import AmazonTransientError, RateLimitTimeout, Throttled
from infra.amazon.models import UsagePlan, usage_plan
from infra.amazon.ratelimit import (
    JITTER_CAP_S,
    MAX_SAFETY_MARGIN_S,
    InProcessRateLimiter,
    NoRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    bucket_params,
)

SELLER = "A1SANDBOXDEMO:NA"
GET_ORDER = "orders2026.getOrder"  # Amazon: 0.5 rps, burst 30
SEARCH = "orders2026.searchOrders"  # Amazon: 0.0056 rps, burst 20


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = fakeredis.FakeRedis()
    yield client
    client.close()


class FakeClock:
    """A monotonic clock the limiters read; ``sleep`` advances it (and ``on_sleep`` is told)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.on_sleep: Callable[[float], None] | None = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)


def limiter(
    client: redis.Redis,
    *,
    safety: float = 0.9,
    rate_factor: float = 1.0,
    observed_ttl_s: float = 3600.0,
    clock: FakeClock | None = None,
) -> RedisRateLimiter:
    """A limiter with keys of its own, so tests never share a bucket by accident; with a clock,
    its sleeps and its stopwatch are the clock's."""
    clock = clock or FakeClock()
    return RedisRateLimiter(
        client,
        key_prefix=f"test:{uuid.uuid4().hex}",
        safety=safety,
        rate_factor=rate_factor,
        observed_ttl_s=observed_ttl_s,
        sleep=clock.sleep,
        monotonic=clock,
    )


def pass_time(client: redis.Redis, rl: RedisRateLimiter, seconds: float) -> None:
    """``seconds`` pass for every bucket of ``rl``: its last refill moves that far back."""
    for key in client.keys(f"{rl.key_prefix}:*bucket"):
        client.hincrbyfloat(key, "ts", -seconds)


def drain(rl: RedisRateLimiter | InProcessRateLimiter, seller: str, operation: str) -> int:
    granted = 0
    while rl.try_acquire(seller, operation) == 0:
        granted += 1
    return granted


def test_the_bucket_holds_amazons_burst_minus_one() -> None:
    plan = usage_plan(GET_ORDER)
    assert bucket_params(plan) == bucket_params(UsagePlan(plan.rate, plan.burst))
    assert bucket_params(plan).capacity == plan.burst - 1
    assert bucket_params(UsagePlan(rate=1.0, burst=1)).capacity == 1
    assert bucket_params(plan, rate_factor=50).rate == pytest.approx(plan.rate * 50)


def test_a_new_bucket_grants_its_capacity_then_says_how_long_to_wait(
    redis_client: redis.Redis,
) -> None:
    rl = limiter(redis_client, safety=0.9)
    plan = usage_plan(SEARCH)
    assert drain(rl, SELLER, SEARCH) == plan.burst - 1
    wait = rl.try_acquire(SELLER, SEARCH)
    one_token = 1 / plan.rate + MAX_SAFETY_MARGIN_S  # a tenth more would be 18 s: capped
    assert one_token * 0.99 < wait <= one_token


def test_the_safety_margin_is_a_tenth_of_a_refill_but_never_more_than_two_seconds(
    redis_client: redis.Redis,
) -> None:
    rl = limiter(redis_client, safety=0.9)
    get_order, search = usage_plan(GET_ORDER).rate, usage_plan(SEARCH).rate
    # getOrder refills every 2 s: its margin is the tenth, 0.22 s.
    assert 1 / rl.effective_rate(SELLER, GET_ORDER) == pytest.approx(1 / (get_order * 0.9))
    # searchOrders refills every 179 s: 181 s, not 198 s.
    assert 1 / rl.effective_rate(SELLER, SEARCH) == pytest.approx(1 / search + 2.0)
    assert [b.rate for b in rl.peek([SELLER], SEARCH)] == [
        pytest.approx(rl.effective_rate(SELLER, SEARCH))
    ]
    # A sandbox sped up 50 times refills searchOrders every 3.6 s: the tenth again.
    fast = limiter(redis_client, safety=0.9, rate_factor=50)
    assert fast.effective_rate(SELLER, SEARCH) == pytest.approx(search * 50 * 0.9)
    # A safety of 1 stays 1.
    assert limiter(redis_client, safety=1.0).effective_rate(SELLER, SEARCH) == pytest.approx(search)
    in_process = InProcessRateLimiter(safety=0.9)
    drain(in_process, SELLER, SEARCH)
    assert in_process.try_acquire(SELLER, SEARCH) == pytest.approx(1 / search + 2.0, rel=0.01)


def test_processes_sharing_redis_share_one_budget(redis_client: redis.Redis) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    first = RedisRateLimiter(redis_client, key_prefix=prefix)
    second = RedisRateLimiter(redis_client, key_prefix=prefix)
    capacity = bucket_params(usage_plan(SEARCH)).capacity
    for _ in range(10):
        assert first.try_acquire(SELLER, SEARCH) == 0
    assert drain(second, SELLER, SEARCH) == capacity - 10
    assert first.try_acquire(SELLER, SEARCH) > 0


def test_each_seller_and_operation_has_its_own_bucket(redis_client: redis.Redis) -> None:
    rl = limiter(redis_client)
    drain(rl, SELLER, SEARCH)
    assert rl.try_acquire(SELLER, SEARCH) > 0
    assert rl.try_acquire("A2OTHER:EU", SEARCH) == 0
    assert rl.try_acquire(SELLER, "ordersV0.getOrders") == 0


def test_tokens_refill_at_rate_times_safety_neither_faster_nor_slower(
    redis_client: redis.Redis,
) -> None:
    # getOrder: 0.5 rps x 0.9 = 0.45 tokens a second.
    rl = limiter(redis_client, safety=0.9)
    capacity = bucket_params(usage_plan(GET_ORDER)).capacity
    drain(rl, SELLER, GET_ORDER)
    pass_time(redis_client, rl, 10.5 / 0.45)
    assert drain(rl, SELLER, GET_ORDER) == 10
    pass_time(redis_client, rl, 1000)
    assert drain(rl, SELLER, GET_ORDER) == capacity  # a bucket never holds more than that


def test_acquire_sleeps_until_a_token_is_free(redis_client: redis.Redis) -> None:
    clock = FakeClock()
    rl = limiter(redis_client, clock=clock)
    clock.on_sleep = lambda seconds: pass_time(redis_client, rl, seconds)
    drain(rl, SELLER, GET_ORDER)
    one_token = 1 / (usage_plan(GET_ORDER).rate * 0.9)
    waited = rl.acquire(SELLER, GET_ORDER, timeout_s=5)
    assert waited == pytest.approx(sum(clock.slept))
    assert len(clock.slept) == 1  # the bucket's answer, slept once, was enough
    assert one_token * 0.99 < waited <= one_token + JITTER_CAP_S


def test_the_jitter_never_carries_a_wait_past_the_timeout(redis_client: redis.Redis) -> None:
    clock = FakeClock()
    rl = limiter(redis_client, clock=clock)
    clock.on_sleep = lambda seconds: pass_time(redis_client, rl, seconds)
    one_token = 1 / (usage_plan(GET_ORDER).rate * 0.9)
    for _ in range(20):
        drain(rl, SELLER, GET_ORDER)
        clock.slept.clear()
        rl.acquire(SELLER, GET_ORDER, timeout_s=one_token + 0.001)
        assert sum(clock.slept) <= one_token + 0.001


def test_acquire_gives_up_at_once_when_the_wait_exceeds_the_timeout(
    redis_client: redis.Redis,
) -> None:
    clock = FakeClock()
    rl = limiter(redis_client, clock=clock)
    drain(rl, SELLER, SEARCH)
    with pytest.raises(RateLimitTimeout) as caught:
        rl.acquire(SELLER, SEARCH, timeout_s=5)
    assert clock.slept == []
    error = caught.value
    assert isinstance(error, Throttled) and isinstance(error, AmazonTransientError)
    assert error.operation == SEARCH
    assert error.retry_after_s is not None and error.retry_after_s > 100
    assert not error.maybe_applied
    copy = pickle.loads(pickle.dumps(error))
    assert copy.retry_after_s == error.retry_after_s and copy.operation == SEARCH


def test_a_lower_rate_from_amazons_header_slows_the_bucket(redis_client: redis.Redis) -> None:
    rl = limiter(redis_client, safety=1.0)
    default = usage_plan(GET_ORDER).rate
    assert rl.effective_rate(SELLER, GET_ORDER) == pytest.approx(default)

    rl.observe_rate_limit_header(SELLER, GET_ORDER, str(default / 5))
    assert rl.effective_rate(SELLER, GET_ORDER) == pytest.approx(default / 5)
    assert rl.effective_rate("A2OTHER:EU", GET_ORDER) == pytest.approx(default)
    drain(rl, SELLER, GET_ORDER)
    assert rl.try_acquire(SELLER, GET_ORDER) > 1 / default * 4

    rl.observe_rate_limit_header(SELLER, GET_ORDER, str(default * 2))  # a raised plan
    assert rl.effective_rate(SELLER, GET_ORDER) == pytest.approx(default)


def test_the_observed_rate_expires_and_junk_headers_are_ignored(
    redis_client: redis.Redis,
) -> None:
    rl = limiter(redis_client, observed_ttl_s=120)
    for junk in (None, "", "fast", "-1", "0", "nan"):
        rl.observe_rate_limit_header(SELLER, GET_ORDER, junk)
    assert redis_client.keys(f"{rl.key_prefix}:*observed*") == []
    rl.observe_rate_limit_header(SELLER, GET_ORDER, "0.1")
    (key,) = redis_client.keys(f"{rl.key_prefix}:*observed*")
    assert 0 < redis_client.ttl(key) <= 120


def test_the_header_is_read_in_amazons_units_and_scaled_like_the_model(
    redis_client: redis.Redis,
) -> None:
    rl = limiter(redis_client, rate_factor=50, safety=1.0)
    default = usage_plan(GET_ORDER).rate
    # A sandbox reporting Amazon's own rate must not slow a 50x bucket down to 1x.
    rl.observe_rate_limit_header(SELLER, GET_ORDER, str(default))
    assert rl.effective_rate(SELLER, GET_ORDER) == pytest.approx(default * 50)
    rl.observe_rate_limit_header(SELLER, GET_ORDER, str(default / 2))
    assert rl.effective_rate(SELLER, GET_ORDER) == pytest.approx(default * 25)


def test_a_429_empties_the_bucket_for_everyone_and_says_for_how_long(
    redis_client: redis.Redis,
) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    first = RedisRateLimiter(redis_client, key_prefix=prefix)
    second = RedisRateLimiter(redis_client, key_prefix=prefix)
    assert first.try_acquire(SELLER, SEARCH) == 0
    one_token = 1 / usage_plan(SEARCH).rate + MAX_SAFETY_MARGIN_S
    assert first.on_throttled(SELLER, SEARCH) == pytest.approx(one_token)
    wait = second.try_acquire(SELLER, SEARCH)
    assert wait == pytest.approx(one_token, rel=0.01)


def test_the_estimate_after_a_429_counts_a_clock_that_stepped_back(
    redis_client: redis.Redis,
) -> None:
    rl = limiter(redis_client, safety=1.0)
    rl.try_acquire(SELLER, SEARCH)
    pass_time(redis_client, rl, -100)  # the last refill lies 100 s ahead of Redis's clock now
    one_token = 1 / usage_plan(SEARCH).rate
    assert rl.on_throttled(SELLER, SEARCH) == pytest.approx(100 + one_token, abs=1)


def test_the_bucket_expires_once_it_would_be_full_again(redis_client: redis.Redis) -> None:
    rl = limiter(redis_client, safety=1.0)
    rl.try_acquire(SELLER, SEARCH)
    (key,) = redis_client.keys(f"{rl.key_prefix}:*bucket")
    plan = usage_plan(SEARCH)
    full_refill = (plan.burst - 1) / plan.rate
    assert full_refill < redis_client.ttl(key) <= full_refill + 61


def test_limiter_settings_are_checked(redis_client: redis.Redis) -> None:
    with pytest.raises(ValueError, match="safety"):
        RedisRateLimiter(redis_client, safety=0)
    with pytest.raises(ValueError, match="NoRateLimiter"):
        RedisRateLimiter(redis_client, rate_factor=0)
    assert "safety=0.9" in repr(RedisRateLimiter(redis_client))


def test_in_process_limiter_keeps_the_same_bucket_on_its_own_clock() -> None:
    clock = FakeClock()
    rl = InProcessRateLimiter(safety=0.5, monotonic=clock, sleep=clock.sleep)
    plan = usage_plan(GET_ORDER)
    assert drain(rl, SELLER, GET_ORDER) == plan.burst - 1
    one_token = 1 / (plan.rate * 0.5)
    assert rl.try_acquire(SELLER, GET_ORDER) == pytest.approx(one_token)

    waited = rl.acquire(SELLER, GET_ORDER)
    assert waited == pytest.approx(sum(clock.slept))
    assert one_token <= waited < one_token * 1.2

    clock.now += one_token * 3
    assert drain(rl, SELLER, GET_ORDER) == 3


def test_in_process_limiter_follows_headers_and_429s() -> None:
    clock = FakeClock()
    rl = InProcessRateLimiter(safety=1.0, monotonic=clock, sleep=clock.sleep)
    default = usage_plan(GET_ORDER).rate
    rl.observe_rate_limit_header(SELLER, GET_ORDER, str(default / 4))
    assert rl.on_throttled(SELLER, GET_ORDER) == pytest.approx(4 / default)
    assert rl.try_acquire(SELLER, GET_ORDER) == pytest.approx(4 / default)
    rl.observe_rate_limit_header(SELLER, GET_ORDER, str(default))
    assert rl.try_acquire(SELLER, GET_ORDER) == pytest.approx(1 / default)
    with pytest.raises(RateLimitTimeout):
        rl.acquire(SELLER, GET_ORDER, timeout_s=0.5)


def test_no_rate_limiter_never_waits() -> None:
    rl: RateLimiter = NoRateLimiter()
    for _ in range(1000):
        assert rl.acquire(SELLER, SEARCH) == 0
    assert rl.on_throttled(SELLER, SEARCH) is None  # no bucket, no estimate
    rl.observe_rate_limit_header(SELLER, SEARCH, "0.001")
    assert rl.acquire(SELLER, SEARCH, timeout_s=0) == 0
