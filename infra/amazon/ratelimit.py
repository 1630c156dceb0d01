"""Amazon's rate budget, shared by every process that calls SP-API for a seller.

Amazon meters each (selling partner, application, operation) with a token bucket: ``rate``
tokens per second refill a bucket of ``burst``; a call on an empty bucket is a 429. Celery's
``rate_limit`` is per worker and would let twenty workers spend twenty budgets, so the bucket we
check lives in Redis and is decided by one Lua script, atomically, with Redis ``TIME`` as the only
clock (worker clocks drift; one clock cannot disagree with itself).

Parameters, all derived from Amazon's model (``infra.amazon.models.usage_plan``), never typed:

- rate = Amazon's rate x ``rate_factor`` (the sandbox's speed-up, 1 against Amazon) x the
  operation's safety, lowered further when Amazon's ``x-amzn-RateLimit-Limit`` header says the
  rate applied to this seller is below the default. The safety (``Settings.rate_safety``, 0.9
  by default) leaves each refill a tenth longer than Amazon's, but never more than
  ``MAX_SAFETY_MARGIN_S`` longer (``operation_safety``): what it guards against is timing
  (network delays that vary, a bucket refilled in steps), a matter of seconds, not of a share of
  the refill. For ``getOrder`` (one call per 2 s) the tenth, 0.2 s, applies; for
  ``searchOrders`` (one per 179 s) a tenth would be 18 s more per call, a sync every 198 s
  instead of 181 s, and that is most of what separates polling's lag from five minutes.
- capacity = Amazon's burst minus one. Our bucket and Amazon's have the same shape but are not
  in phase: a token we grant at t is spent at Amazon at t + network delay, and delays vary, so
  two requests granted 1/rate apart can arrive closer together; Amazon may also refill in steps
  or have been drained a little by a call we no longer remember (Redis restarted, another tool).
  If both buckets were the same size, any such skew at the moment ours hands out its last token
  would be a 429. Holding one token back lets us run one request "ahead" of Amazon's view of
  the bucket. It costs 1/burst of the first burst (one call in 20 for searchOrders) and nothing
  in steady state, where only the rate matters. A burst of 1 keeps a capacity of 1.

The script's answer is 0 (a token was taken) or the seconds until one will be free; ``acquire``
sleeps that long plus a little jitter (so waiting processes do not all wake in the same
microsecond, and never past the timeout) and asks again, and raises ``RateLimitTimeout`` at
once when the wait would pass its timeout. The bucket hash expires once a full refill has
certainly happened, so idle sellers cost no memory and an expired bucket is rightly a full one.
Requires Redis >= 5 (a script may call ``TIME`` and then write).

When Amazon answers 429 anyway, its bucket is empty whatever ours says, so ``on_throttled``
empties ours too: every process then waits one refill instead of spending retries on 429s. It
answers how long that refill takes, so a caller that will not wait can say when to come back.

``peek`` reads what several sellers' buckets hold now without taking anything (one pipelined
round trip, Redis ``TIME`` again the clock): the ingest schedule asks it which sellers can afford
a sync (``domain.ingestion.schedule``).

Also here: ``InProcessRateLimiter`` (the same bucket in one process, for tools run without
Redis) and ``NoRateLimiter`` (the "limits lifted" benchmark).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

from domain.ingestion import SearchBudget
from infra.amazon.errors import RateLimitTimeout
from infra.amazon.models import UsagePlan, usage_plan

log = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "amazon-channel:ratelimit"
# Waiting processes wake spread over this fraction of their wait (plus a floor), capped.
JITTER_FRACTION = 0.1
JITTER_FLOOR_S = 0.002
JITTER_CAP_S = 0.25
# The most a refill of ours may last longer than Amazon's (see the module doc).
MAX_SAFETY_MARGIN_S = 2.0

# KEYS[1] bucket hash {tokens, ts}; KEYS[2] observed rate (tokens/s, our units) or absent.
# ARGV[1] default rate (tokens/s, x rate_factor); ARGV[2] safety; ARGV[3] capacity.
# Returns a string (Redis turns Lua numbers into integers): "0" granted, else seconds to wait.
_BUCKET_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local observed = tonumber(redis.call('GET', KEYS[2]) or '')
if observed and observed > 0 and observed < rate then
  rate = observed
end
rate = rate * tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
-- A clock that stepped back leaves ts ahead: no refill until it catches up (errs to waiting).
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens),
           'ts', string.format('%.6f', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 60000)
if wait == 0 then
  return '0'
end
return string.format('%.6f', wait)
"""


_DRAIN_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ts = tonumber(redis.call('HGET', KEYS[1], 'ts'))
if ts == nil or ts < now then
  ts = now
end
redis.call('HSET', KEYS[1], 'tokens', '0', 'ts', string.format('%.6f', ts))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return string.format('%.6f', ts - now)
"""


class RateLimiter(Protocol):
    """What the SP-API client needs from a limiter (Redis-shared, in-process, or none)."""

    def acquire(self, seller_key: str, operation_key: str, timeout_s: float | None = None) -> float:
        """Block until a call may be made; return the seconds waited."""
        ...

    def on_throttled(self, seller_key: str, operation_key: str) -> float | None:
        """Amazon answered 429: its bucket is empty, so ours is made empty too.

        Returns the seconds until our bucket has a token again (None: no bucket to ask)."""
        ...

    def observe_rate_limit_header(
        self, seller_key: str, operation_key: str, header_value: str | None
    ) -> None:
        """Take note of Amazon's ``x-amzn-RateLimit-Limit`` for this seller and operation."""
        ...


@dataclass(frozen=True, slots=True)
class BucketParams:
    """Our bucket for one operation before safety and observed overrides (see module doc)."""

    rate: float  # tokens/second: Amazon's rate x rate_factor
    capacity: int  # Amazon's burst - 1, at least 1


def bucket_params(plan: UsagePlan, rate_factor: float = 1.0) -> BucketParams:
    return BucketParams(rate=plan.rate * rate_factor, capacity=max(1, plan.burst - 1))


def operation_safety(safety: float, rate: float) -> float:
    """The factor applied to an operation refilling ``rate`` tokens a second: ``safety``, or
    closer to 1 where that would make a refill more than ``MAX_SAFETY_MARGIN_S`` longer than
    Amazon's (1/rate + the margin is the slowest refill of ours)."""
    return max(safety, 1.0 / (1.0 + MAX_SAFETY_MARGIN_S * rate))


class _BucketLimiter:
    """The waiting loop and the parameters; subclasses say where the bucket lives."""

    def __init__(
        self,
        *,
        safety: float,
        rate_factor: float,
        default_timeout_s: float,
        observed_ttl_s: float,
        plans: Callable[[str], UsagePlan],
        sleep: Callable[[float], None],
        monotonic: Callable[[], float],
    ) -> None:
        if not 0 < safety <= 1:
            raise ValueError("safety must be in (0, 1]")
        if rate_factor <= 0:
            raise ValueError("rate_factor must be > 0 (use NoRateLimiter to lift the limits)")
        self.safety = safety
        self.rate_factor = rate_factor
        self.default_timeout_s = default_timeout_s
        self.observed_ttl_s = observed_ttl_s
        self._plans = plans
        self._sleep = sleep
        self._monotonic = monotonic

    def params(self, operation_key: str) -> BucketParams:
        return bucket_params(self._plans(operation_key), self.rate_factor)

    def safety_of(self, operation_key: str) -> float:
        """The safety applied to this operation's rate (``operation_safety``)."""
        return operation_safety(self.safety, self.params(operation_key).rate)

    def try_acquire(self, seller_key: str, operation_key: str) -> float:
        """Take a token if there is one: 0.0, else the seconds until one will be free."""
        raise NotImplementedError

    def acquire(self, seller_key: str, operation_key: str, timeout_s: float | None = None) -> float:
        """Wait for a token; raise ``RateLimitTimeout`` rather than wait past ``timeout_s``.

        The error is raised as soon as the bucket's answer shows the wait would overrun, so a
        caller with a short timeout is told at once (with ``retry_after_s``) instead of sleeping
        first and failing later.
        """
        limit = self.default_timeout_s if timeout_s is None else timeout_s
        started = self._monotonic()
        while True:
            wait = self.try_acquire(seller_key, operation_key)
            waited = self._monotonic() - started
            if wait <= 0:
                if waited > 1.0:
                    log.info(
                        "rate limiter granted after waiting",
                        extra={"operation": operation_key, "wait_s": round(waited, 3)},
                    )
                return waited
            if waited + wait > limit:
                raise RateLimitTimeout(
                    f"no {operation_key} token for {seller_key} within {limit:.1f}s",
                    operation=operation_key,
                    code="RateLimitTimeout",
                    retry_after_s=wait,
                )
            jitter = random.uniform(0, min(JITTER_CAP_S, wait * JITTER_FRACTION + JITTER_FLOOR_S))
            self._sleep(wait + min(jitter, limit - waited - wait))


class RedisRateLimiter(_BucketLimiter):
    """A token bucket per (seller, operation) in Redis, shared by all processes.

    ``rate_factor`` scales Amazon's rates the way the sandbox does (its ``rate_factor``), so a
    sped-up sandbox and our bucket agree; it is 1 against Amazon.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        *,
        safety: float = 0.9,
        rate_factor: float = 1.0,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        default_timeout_s: float = 60.0,
        observed_ttl_s: float = 3600.0,
        plans: Callable[[str], UsagePlan] = usage_plan,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            safety=safety,
            rate_factor=rate_factor,
            default_timeout_s=default_timeout_s,
            observed_ttl_s=observed_ttl_s,
            plans=plans,
            sleep=sleep,
            monotonic=monotonic,
        )
        self._redis = redis_client
        self._bucket_script = redis_client.register_script(_BUCKET_SCRIPT)
        self._drain_script = redis_client.register_script(_DRAIN_SCRIPT)
        self.key_prefix = key_prefix
        # Last header value written per key, so a steady header costs no Redis write per call.
        self._observed_written: dict[tuple[str, str], tuple[str, float]] = {}
        # The bucket script's keys and arguments per (seller, operation): fixed for this limiter.
        self._script_inputs: dict[tuple[str, str], tuple[list[str], list[str | int]]] = {}
        self._observed_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"RedisRateLimiter(safety={self.safety}, rate_factor={self.rate_factor}, "
            f"key_prefix={self.key_prefix!r})"
        )

    def _keys(self, seller_key: str, operation_key: str) -> tuple[str, str]:
        # One hash tag for both keys: a Redis Cluster keeps them in one slot, as a script needs.
        tag = f"{{{seller_key}|{operation_key}}}"
        return f"{self.key_prefix}:{tag}:bucket", f"{self.key_prefix}:{tag}:observed-rate"

    def try_acquire(self, seller_key: str, operation_key: str) -> float:
        inputs = self._script_inputs.get((seller_key, operation_key))
        if inputs is None:
            params = self.params(operation_key)
            inputs = (
                list(self._keys(seller_key, operation_key)),
                [repr(params.rate), repr(self.safety_of(operation_key)), params.capacity],
            )
            self._script_inputs[(seller_key, operation_key)] = inputs
        keys, args = inputs
        return float(_text(self._bucket_script(keys=keys, args=args)))

    def on_throttled(self, seller_key: str, operation_key: str) -> float:
        """Empty our bucket: the next caller waits one refill instead of hitting a 429 again.

        Returns the seconds until the bucket holds a token: one token's refill, plus whatever
        a clock that stepped back still owes."""
        rate = self.effective_rate(seller_key, operation_key)
        ttl_ms = math.ceil(self.params(operation_key).capacity / rate * 1000) + 60000
        ahead = self._drain_script(keys=[self._keys(seller_key, operation_key)[0]], args=[ttl_ms])
        return float(_text(ahead)) + 1 / rate

    def peek(self, seller_keys: Sequence[str], operation_key: str) -> list[SearchBudget]:
        """What each seller's bucket for ``operation_key`` holds now; nothing is taken.

        The same arithmetic as the bucket script (refill since ``ts``, capped; an absent bucket
        is a full one), on Redis' clock, in one pipelined round trip for every seller."""
        params = self.params(operation_key)
        pipe = self._redis.pipeline(transaction=False)
        pipe.time()
        for seller_key in seller_keys:
            bucket_key, observed_key = self._keys(seller_key, operation_key)
            pipe.hmget(bucket_key, "tokens", "ts")
            pipe.get(observed_key)
        answers = pipe.execute()
        seconds, micros = answers[0]
        now = float(seconds) + float(micros) / 1_000_000
        budgets: list[SearchBudget] = []
        for state, raw_observed in zip(answers[1::2], answers[2::2], strict=True):
            rate = params.rate
            observed = _parse_rate(None if raw_observed is None else _text(raw_observed))
            if observed is not None and observed < rate:
                rate = observed
            rate *= self.safety_of(operation_key)
            tokens = float(params.capacity)
            if state[0] is not None and state[1] is not None:
                held, ts = float(_text(state[0])), float(_text(state[1]))
                tokens = min(tokens, held + max(0.0, now - ts) * rate)
            budgets.append(SearchBudget(tokens=tokens, capacity=params.capacity, rate=rate))
        return budgets

    def effective_rate(self, seller_key: str, operation_key: str) -> float:
        """The refill rate the script applies now (after safety and any observed lower rate)."""
        rate = self.params(operation_key).rate
        raw = self._redis.get(self._keys(seller_key, operation_key)[1])
        observed = _parse_rate(None if raw is None else _text(raw))
        if observed is not None and observed < rate:
            rate = observed
        return rate * self.safety_of(operation_key)

    def observe_rate_limit_header(
        self, seller_key: str, operation_key: str, header_value: str | None
    ) -> None:
        """Lower this seller's rate when Amazon says it applies less than the model's default.

        The header is in Amazon's units; it is multiplied by ``rate_factor`` like the model's
        rate. (A sandbox that reports already-scaled rates then never lowers anything, which is
        the harmless side to err on.) A value at or above the default clears the override:
        higher plans are ignored on purpose, the model's default is what we can rely on. The
        override expires after ``observed_ttl_s`` so a raised plan is picked up again.
        """
        observed = _parse_rate(header_value)
        if observed is None or header_value is None:
            return
        key = (seller_key, operation_key)
        now = self._monotonic()
        with self._observed_lock:
            last = self._observed_written.get(key)
            if (
                last is not None
                and last[0] == header_value
                and now - last[1] < self.observed_ttl_s / 2
            ):
                return
            self._observed_written[key] = (header_value, now)
        default = self.params(operation_key).rate
        scaled = observed * self.rate_factor
        observed_key = self._keys(seller_key, operation_key)[1]
        if scaled < default:
            self._redis.set(observed_key, repr(scaled), ex=max(1, math.ceil(self.observed_ttl_s)))
            log.warning(
                "amazon applies a lower rate than the model's default",
                extra={"operation": operation_key, "rate": observed, "default": default},
            )
        else:
            self._redis.delete(observed_key)


class InProcessRateLimiter(_BucketLimiter):
    """The same bucket kept in this process only: for one-off tools and runs without Redis.

    It cannot protect a budget that other processes also spend; workers use the Redis one.
    The clock is ``time.monotonic`` (one process, one clock).
    """

    def __init__(
        self,
        *,
        safety: float = 0.9,
        rate_factor: float = 1.0,
        default_timeout_s: float = 60.0,
        observed_ttl_s: float = 3600.0,
        plans: Callable[[str], UsagePlan] = usage_plan,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            safety=safety,
            rate_factor=rate_factor,
            default_timeout_s=default_timeout_s,
            observed_ttl_s=observed_ttl_s,
            plans=plans,
            sleep=sleep,
            monotonic=monotonic,
        )
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # tokens, ts
        self._observed: dict[tuple[str, str], tuple[float, float]] = {}  # rate, expires

    def _rate(self, key: tuple[str, str], now: float) -> float:
        rate = self.params(key[1]).rate
        observed = self._observed.get(key)
        if observed is not None and observed[1] > now and observed[0] < rate:
            rate = observed[0]
        return rate * self.safety_of(key[1])

    def try_acquire(self, seller_key: str, operation_key: str) -> float:
        key = (seller_key, operation_key)
        capacity = self.params(operation_key).capacity
        with self._lock:
            now = self._monotonic()
            rate = self._rate(key, now)
            tokens, ts = self._buckets.get(key, (float(capacity), now))
            if now > ts:
                tokens = min(float(capacity), tokens + (now - ts) * rate)
                ts = now
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate
            self._buckets[key] = (tokens, ts)
            return wait

    def on_throttled(self, seller_key: str, operation_key: str) -> float:
        key = (seller_key, operation_key)
        with self._lock:
            now = self._monotonic()
            self._buckets[key] = (0.0, now)
            return 1 / self._rate(key, now)

    def observe_rate_limit_header(
        self, seller_key: str, operation_key: str, header_value: str | None
    ) -> None:
        observed = _parse_rate(header_value)
        if observed is None:
            return
        key = (seller_key, operation_key)
        scaled = observed * self.rate_factor
        with self._lock:
            if scaled < self.params(operation_key).rate:
                self._observed[key] = (scaled, self._monotonic() + self.observed_ttl_s)
            else:
                self._observed.pop(key, None)


class NoRateLimiter:
    """No client-side limit: for the "limits lifted" benchmark (sandbox rate_factor 0)."""

    def acquire(self, seller_key: str, operation_key: str, timeout_s: float | None = None) -> float:
        return 0.0

    def on_throttled(self, seller_key: str, operation_key: str) -> float | None:
        return None

    def observe_rate_limit_header(
        self, seller_key: str, operation_key: str, header_value: str | None
    ) -> None:
        return None


def _parse_rate(value: str | None) -> float | None:
    if not value:
        return None
    try:
        rate = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(rate) or rate <= 0:
        return None
    return rate


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
