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
from tests.integration.workers.scenarios import SEARCH_ORDERS, on_sandbox, project_app, worker_env
from workers import bootstrap
from workers.demo import ensure_demo_account
from workers.tasks.ingest import PendingSyncs, QueuedAt, sync_all

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
