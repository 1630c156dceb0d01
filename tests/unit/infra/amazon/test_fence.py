"""The transport inside an attempt's fence: the lease is checked right before each request
leaves (after the budget token), nothing is sent when the check fails, and every request is
bounded by the fence's timeout."""

from __future__ import annotations

import httpx
import pytest

from domain.shared import LeaseLost
from infra.amazon.client import SpApiClient
from infra.amazon.fence import current, fenced
from tests.unit.infra.amazon.fake_spapi import SEARCH, T0, FakeAmazon, RecordingLimiter

TIMEOUT = httpx.Timeout(connect=1.0, read=2.0, write=3.0, pool=4.0)


def test_a_lost_lease_stops_the_request_before_it_leaves(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter
) -> None:
    checks: list[str] = []

    def lost() -> None:
        checks.append("checked")
        raise LeaseLost("another attempt holds it")

    with fenced(lost, TIMEOUT), pytest.raises(LeaseLost):
        client.search_orders(last_updated_after=T0)
    assert checks == ["checked"]
    assert amazon.requests == [], "nothing reached Amazon"
    assert limiter.acquired == ["orders2026.searchOrders"], "checked after the budget token"


def test_a_held_lease_is_checked_before_every_request_and_bounds_it(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue(SEARCH, httpx.Response(503), httpx.Response(200, json={"orders": []}))
    checks: list[int] = []
    with fenced(lambda: checks.append(len(amazon.requests)), TIMEOUT):
        client.search_orders(last_updated_after=T0)
    assert checks == [0, 1], "each attempt (the retry too) checked before it was sent"
    timeouts = [r.extensions["timeout"] for r in amazon.requests]
    assert timeouts == [{"connect": 1.0, "read": 2.0, "write": 3.0, "pool": 4.0}] * 2


def test_outside_a_fence_requests_go_unchecked_with_the_clients_timeout(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    with fenced(lambda: None, TIMEOUT):
        pass
    assert current() is None, "the fence ends with its block"
    amazon.queue(SEARCH, httpx.Response(200, json={"orders": []}))
    client.search_orders(last_updated_after=T0)
    assert amazon.requests[0].extensions["timeout"] != {
        "connect": 1.0,
        "read": 2.0,
        "write": 3.0,
        "pool": 4.0,
    }
