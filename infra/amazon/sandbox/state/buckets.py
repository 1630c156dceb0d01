"""Amazon's rate limits in the sandbox: one token bucket per (seller, operation).

Each bucket follows the operation's usage plan (``infra.amazon.models``), its refill rate
multiplied by ``rate_factor`` (0 lifts the limits). Buckets take the monotonic time from their
caller, so a test can drive them without sleeping; the sandbox clock's offset does not move them.
"""

from __future__ import annotations

from infra.amazon.models import usage_plan


class TokenBucket:
    """Amazon's meter: ``rate`` tokens/second refill up to ``burst``; a call spends one.

    Takes the monotonic time from its caller so a test can drive it without sleeping.
    """

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class RateMeter:
    """The buckets of every seller and operation, made on first use."""

    def __init__(self, rate_factor: float) -> None:
        if rate_factor < 0:
            raise ValueError("rate_factor must be >= 0 (0 lifts the limits)")
        self.rate_factor = rate_factor
        self.buckets: dict[tuple[str, str], TokenBucket] = {}

    def take(self, seller_id: str, operation: str, now: float) -> bool:
        """Spend one call of the seller's bucket for ``operation``; False means 429."""
        if self.rate_factor == 0:
            return True
        bucket = self.buckets.get((seller_id, operation))
        if bucket is None:
            plan = usage_plan(operation)
            bucket = TokenBucket(plan.rate * self.rate_factor, plan.burst, now)
            self.buckets[(seller_id, operation)] = bucket
        return bucket.take(now)

    @staticmethod
    def limit_header(operation: str) -> str:
        """``x-amzn-RateLimit-Limit``: the usage plan's rate in Amazon's units.

        Not multiplied by ``rate_factor``: the factor is the sandbox's speed-up of time, and our
        client scales the header by its own factor, as it scales the model's rate.
        """
        return f"{usage_plan(operation).rate:g}"

    def clear(self) -> None:
        self.buckets.clear()
