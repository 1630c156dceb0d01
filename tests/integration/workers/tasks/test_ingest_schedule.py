"""The ingest schedule at Amazon's real searchOrders rate (the sandbox's rate_factor 1: burst 20,
one call per 178 s): beat's ticks never empty a seller's budget, however often they come, and
below the reserve a sync is due once two calls have refilled since the last.

Ticks here follow each other as soon as the last queued sync is done, faster than beat's minute,
so the budget refills next to nothing between them: the worst case for the schedule. A real
ingest worker runs the syncs; ``sync_all`` runs in this process, as beat's task would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.lwa import CACHE_PREFIX as LWA_CACHE_PREFIX
from infra.amazon.ratelimit import DEFAULT_KEY_PREFIX
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.settings import Settings
from tests.integration.processes import wait_for, worker
from tests.integration.workers.scenarios import (
    SEARCH_ORDERS,
    on_sandbox,
    project_app,
    stage,
    worker_env,
)
from workers import bootstrap
from workers.demo import ensure_demo_account
from workers.tasks.ingest import PendingSyncs, QueuedAt, sync_all
from workers.windows import PREFIX as WINDOW_PREFIX

pytestmark = pytest.mark.integration

REAL_RATE = 1.0
TICKS = 20


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=REAL_RATE) as handle:
        yield handle


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    with project_app(broker_url) as app:
        yield app


@pytest.fixture
def fresh_budgets(redis_client: redis.Redis) -> None:
    """No budget or sync mark left by an earlier test (they ran at other rates), and no access
    token another test's sandbox issued (ours would answer it 403: one more searchOrders)."""
    for pattern in (
        f"{DEFAULT_KEY_PREFIX}:*",
        f"{PendingSyncs.PREFIX}*",
        f"{QueuedAt.PREFIX}*",
        f"{WINDOW_PREFIX}*",
        f"{LWA_CACHE_PREFIX}:*",
    ):
        for key in redis_client.scan_iter(pattern):
            redis_client.delete(key)


def _search_calls(sandbox: SandboxHandle) -> list[int]:
    answer = httpx.get(
        f"{sandbox.base_url}/_sandbox/calls",
        params={"operation": SEARCH_ORDERS, "limit": 1000},
        timeout=30,  # an in-process server on a loaded machine: a slow answer is no failure here
    )
    answer.raise_for_status()
    return [int(call["status"]) for call in answer.json()["calls"]]


def test_ticks_at_the_real_rate_spend_only_the_budget_above_the_reserve(
    sandbox: SandboxHandle,
    settings: Settings,
    child_env: dict[str, str],
    session_factory: sessionmaker[Session],
    celery_app: Any,
    fresh_budgets: None,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    account = ensure_demo_account(session_factory)
    pending = PendingSyncs(redis_client)
    container = bootstrap.use(on_sandbox(settings, sandbox, REAL_RATE), patient=False)
    reserve = container.settings.sync_budget_reserve
    queued: list[int] = []
    try:
        with worker("ingest", worker_env(child_env, sandbox, REAL_RATE), tmp_path):
            for _ in range(TICKS):
                queued.append(sync_all())
                wait_for(lambda: not pending.is_pending(account.id), 60)
            (at_reserve,) = container.search_budgets([account])
            assert at_reserve is not None, "the sandbox's real rates are limited"
            # Two refills pass for the schedule (not for the budget): the last sync's mark moves
            # back, and one sync below the reserve is due.
            QueuedAt(redis_client).mark(account.id, time.time() - 2 / at_reserve.rate)
            below = [sync_all(), sync_all()]
            wait_for(lambda: not pending.is_pending(account.id), 60)
        (budget,) = container.search_budgets([account])
        assert budget is not None
    finally:
        bootstrap.reset_and_close()

    assert queued[0] == 1, "a new account's first sync is queued at the first tick"
    # Our bucket holds 19 of Amazon's 20: what is above the reserve was spent, one call a sync.
    assert sum(queued) >= 19 - reserve - 1
    assert at_reserve.tokens >= reserve, "ticks left the reserve whole"
    assert queued[-3:] == [0, 0, 0], "at the reserve, ticks queue nothing until it is due again"
    assert below == [1, 0], "below the reserve: one sync per two refills"
    assert budget.tokens < at_reserve.tokens
    statuses = _search_calls(sandbox)
    assert len(statuses) == sum(queued) + 1
    assert set(statuses) == {200}, "no tick's sync was throttled"


def _spend_to_just_below(
    redis_client: redis.Redis, container: Any, account: Any, calls: float, due_in_s: float
) -> None:
    """The account's searchOrders bucket left holding ``calls`` calls less what refills in
    ``due_in_s`` (its last refill moved back, as time passing would)."""
    (budget,) = container.search_budgets([account])
    assert budget is not None
    (key,) = [k for k in redis_client.scan_iter(f"{DEFAULT_KEY_PREFIX}:*searchOrders*bucket")]
    redis_client.hset(key, "tokens", repr(calls - budget.rate * due_in_s))


def test_a_sync_due_before_the_next_tick_is_queued_at_once_to_start_when_its_call_refills(
    sandbox: SandboxHandle,
    settings: Settings,
    child_env: dict[str, str],
    session_factory: sessionmaker[Session],
    celery_app: Any,
    fresh_budgets: None,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    account = ensure_demo_account(session_factory)
    pending, queued_at = PendingSyncs(redis_client), QueuedAt(redis_client)
    container = bootstrap.use(on_sandbox(settings, sandbox, REAL_RATE), patient=False)
    reserve = container.settings.sync_budget_reserve
    due_in_s = 4.0
    try:
        with worker("ingest", worker_env(child_env, sandbox, REAL_RATE), tmp_path):
            assert sync_all() == 1, "a new account's first sync"
            wait_for(lambda: not pending.is_pending(account.id), 60)
            httpx.delete(f"{sandbox.base_url}/_sandbox/calls", timeout=30).raise_for_status()
            # A steady seller: its budget one call above the reserve in 4 s, 181 s at most
            # since its last sync (beat's next tick, 60 s away, would start it up to 56 s late).
            _spend_to_just_below(redis_client, container, account, reserve + 1, due_in_s)
            queued_from = time.time()
            assert sync_all() == 1, "due before the next tick: queued now"
            (starts_at,) = queued_at.read([account.id])
            assert starts_at is not None
            assert sync_all() == 0, "one sync waiting: the next tick queues nothing"
            wait_for(lambda: not pending.is_pending(account.id), 60)
            (after,) = container.search_budgets([account])
            assert sync_all() == 0, "the next call is a refill away: not before the next tick"
        calls = httpx.get(
            f"{sandbox.base_url}/_sandbox/calls",
            params={"operation": SEARCH_ORDERS, "limit": 1000},
            timeout=30,
        ).json()["calls"]
    finally:
        bootstrap.reset_and_close()

    assert starts_at == pytest.approx(queued_from + due_in_s, abs=1.0)
    assert [int(c["status"]) for c in calls] == [200], "one call, not throttled"
    called_at = datetime.fromisoformat(calls[0]["time"].replace("Z", "+00:00")).timestamp()
    # Amazon's whole seconds: the call came no sooner than the second its token refilled.
    assert called_at >= int(queued_from + due_in_s) - 1, "the sync waited for its call"
    assert after is not None and reserve <= after.tokens < reserve + 1, "the reserve is whole"


def test_below_the_reserve_a_seller_whose_last_sync_stored_changes_is_synced_at_each_refill(
    sandbox: SandboxHandle,
    settings: Settings,
    session_factory: sessionmaker[Session],
    celery_app: Any,
    fresh_budgets: None,
    redis_client: redis.Redis,
) -> None:
    account = ensure_demo_account(session_factory)
    pending, queued_at = PendingSyncs(redis_client), QueuedAt(redis_client)
    stage(sandbox, 5, seed=21)
    container = bootstrap.use(on_sandbox(settings, sandbox, REAL_RATE), patient=False)
    reserve = container.settings.sync_budget_reserve
    try:
        synced = bootstrap.sync_account(account.id)  # stores the five: changes may be waiting
        assert synced.created == 5
        answers = []
        for flag in ("1", "0"):  # the last sync stored changes; then it stored none
            key = f"{WINDOW_PREFIX}{account.id}:orders"
            seen = redis_client.get(key)
            assert isinstance(seen, bytes), "the sync remembered its window"
            orders, span = seen.decode().split()[:2]
            redis_client.set(key, f"{orders} {span} {flag}")
            # Below the reserve, one call refilled since the last sync was queued.
            _spend_to_just_below(redis_client, container, account, reserve - 0.5, 0.0)
            (budget,) = container.search_budgets([account])
            assert budget is not None
            queued_at.mark(account.id, time.time() - 1 / budget.rate)
            pending.release(account.id)
            answers.append(sync_all())
    finally:
        bootstrap.reset_and_close()

    assert answers == [1, 0], "busy: due at the refill; quiet: at the second one"
