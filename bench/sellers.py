"""Many-sellers benchmark: 1,000 accounts synced by one ingest worker process at Amazon's real
``searchOrders`` rate, beside today's baseline measured in the same run.

Two runs, each with a fresh database, a fresh sandbox process at ``rate_factor`` 1 (burst 20,
one call per 178 s per seller) knowing every seller, and the embedded Redis emptied (no budget,
access token or queued task of the run before):

1. baseline: ``AMAZON_CLIENT_CACHE_SIZE=0`` and ``AMAZON_SHARED_HTTP=false``, a new SP-API client
   with its own ``httpx.Client`` (and SSL context) for every sync, which is what a worker did
   when its pool child was recycled before it saw an account twice;
2. ours: the defaults, one HTTP client and limiter for every seller, clients cached.

The accounts are bulk-inserted (setup, not measured). One ingest worker (the Procfile's: one
pool child, one core) runs; the benchmark sends ``ingest.sync_all`` every ``TICK_S`` as beat
does, ``ticks`` times. Measured per tick: beat-to-commit of each account-sync (the tick's send
to the commit of the account's last page, ``last_success_at``), the worker's CPU (main process
and pool children, reaped ones included) per account-sync, and its RSS. The first tick also
fetches every seller's LWA token (once an hour in steady state), so the CPU figure is that of
the later ticks. The sellers have no new orders: a sync is one ``searchOrders`` page and one
transaction, the cost every seller pays every time whatever it sells. Percentiles and CPU are
those of the ticks after the first. The wall time per account-sync is the tick's last commit
over its syncs: one worker of concurrency 1 also waits on the sandbox and PostgreSQL.

What one core serves: at Amazon's rate the schedule syncs a steady seller once per refill of
its budget (``STEADY_S``: the tick before queues it to start when the call is there), so one
core serves ``STEADY_S / cpu_per_sync`` sellers; synced every minute (while their
budgets last), ``TICK_S / cpu_per_sync``. The sellers run's ticks all fall within the budget's
burst, so both runs sync every account at every tick: the same work, the CPU compared.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import redis
from sqlalchemy import func, insert, select

from bench.ingest import free_port, sandbox_process
from infra.amazon.models import usage_plan
from infra.amazon.ratelimit import bucket_params, operation_safety
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db import migrate
from infra.db.engine import make_engine
from infra.db.tables.accounts import SellerAccount
from infra.db.tables.ingestion import SyncCursor
from infra.settings import Settings

TICK_S = 60.0  # beat's SYNC_INTERVAL_SECONDS
US = "ATVPDKIKX0DER"
_PLAN = usage_plan("orders2026.searchOrders")
# A steady seller's searchOrders budget gains a call every 1/(rate x safety) s, and its next
# sync starts then.
STEADY_S = 1 / (bucket_params(_PLAN).rate * operation_safety(0.9, bucket_params(_PLAN).rate))
BASELINE = {"AMAZON_CLIENT_CACHE_SIZE": "0", "AMAZON_SHARED_HTTP": "false"}


def _seller(n: int) -> str:
    return f"A{n:07d}BENCH"


def _add_sellers(base_url: str, count: int) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for n in range(count):
            http.post(
                "/_sandbox/sellers",
                json={
                    "seller_id": _seller(n),
                    "refresh_token": f"Atzr|bench-{n}",
                    "client_id": DEMO_SELLER.client_id,
                    "client_secret": DEMO_SELLER.client_secret,
                    "marketplace_ids": [US],
                },
            ).raise_for_status()


def _insert_accounts(database_url: str, count: int) -> None:
    """Every account in one statement (``accounts add`` is not what is measured)."""
    engine = make_engine(database_url)
    try:
        rows = [
            {
                "name": f"bench-{n}",
                "selling_partner_id": _seller(n),
                "region": "SANDBOX",
                "marketplace_ids": [US],
                "lwa_client_id": DEMO_SELLER.client_id,
                "lwa_refresh_token": f"Atzr|bench-{n}",
            }
            for n in range(count)
        ]
        with engine.begin() as conn:
            conn.execute(insert(SellerAccount), rows)
    finally:
        engine.dispose()


def _cpu_s(worker: psutil.Process) -> float:
    """The worker's CPU: its own, its live pool children's and its reaped children's."""
    times = worker.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in worker.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            child_times = child.cpu_times()
            total += child_times.user + child_times.system
    return total


def _rss_mib(worker: psutil.Process) -> float:
    rss = worker.memory_info().rss
    for child in worker.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            rss += child.memory_info().rss
    return rss / 2**20


@contextlib.contextmanager
def _worker(env: dict[str, str]) -> Iterator[psutil.Process]:
    argv = [sys.executable, "-m", "workers.cli", "worker", "ingest"]
    child = psutil.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not child.children():  # the pool child is up: the worker takes tasks
            if time.monotonic() > deadline:
                raise RuntimeError("the ingest worker did not come up")
            time.sleep(0.2)
        time.sleep(2)
        yield child
    finally:
        child.terminate()
        child.wait(timeout=60)


def _commits_since(engine: Any, since: float) -> list[float]:
    """Seconds from ``since`` (epoch) to each account's last committed sync after it."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(func.extract("epoch", SyncCursor.last_success_at)).where(
                func.extract("epoch", SyncCursor.last_success_at) >= since
            )
        ).all()
    return [float(r[0]) - since for r in rows]


def _one_run(
    settings: Settings, accounts: int, ticks: int, extra: dict[str, str]
) -> dict[str, Any]:
    redis.Redis.from_url(settings.redis_url).flushall()
    with (
        migrate.scratch_database(settings.database_url, "ac_bench") as database_url,
        sandbox_process(0, rate_factor=1.0) as base_url,
    ):
        _add_sellers(base_url, accounts)
        _insert_accounts(database_url, accounts)
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            REDIS_URL=settings.redis_url,
            BROKER_URL=settings.broker_url,
            AMAZON_REGION="SANDBOX",
            SPAPI_ENDPOINT=base_url,
            SANDBOX_RATE_FACTOR="1",
            LOG_LEVEL="WARNING",
            FLOWER_PORT=str(free_port()),
            **extra,
        )
        from workers.app import app

        app.close()
        app.conf.broker_url = settings.broker_url
        engine = make_engine(database_url)
        per_tick: list[dict[str, Any]] = []
        try:
            with _worker(env) as worker:
                for tick in range(ticks):
                    cpu_before, sent = _cpu_s(worker), time.time()
                    app.send_task("ingest.sync_all")
                    deadline = time.monotonic() + TICK_S
                    waits = _commits_since(engine, sent)
                    while len(waits) < accounts and time.monotonic() < deadline:
                        time.sleep(0.5)
                        waits = _commits_since(engine, sent)
                    cpu = _cpu_s(worker) - cpu_before
                    per_tick.append(
                        {
                            "tick": tick,
                            "waits": waits,
                            "synced": len(waits),
                            "last_commit_s": round(max(waits), 2) if waits else None,
                            "p50_s": round(statistics.median(waits), 2) if waits else None,
                            "p95_s": _p95(waits),
                            "cpu_ms_per_sync": round(1000 * cpu / max(1, len(waits)), 2),
                            "rss_mib": round(_rss_mib(worker), 1),
                        }
                    )
                    if tick < ticks - 1:
                        time.sleep(max(0.0, deadline - time.monotonic()))
        finally:
            engine.dispose()
            app.close()
    later = per_tick[1:] or per_tick
    waits = sorted(w for t in later for w in t.pop("waits"))
    per_tick[0].pop("waits", None)
    cpu_ms = statistics.median(t["cpu_ms_per_sync"] for t in later)
    # Wall time: a worker of concurrency 1 also waits for the sandbox and PostgreSQL.
    wall_ms = statistics.median(1000 * t["last_commit_s"] / t["synced"] for t in later)
    return {
        "ticks": per_tick,
        "cpu_ms_per_sync": cpu_ms,
        "wall_ms_per_sync": round(wall_ms, 2),
        "beat_to_commit_p50_s": round(statistics.median(waits), 2) if waits else None,
        "beat_to_commit_p95_s": _p95(waits),
        "rss_mib": max(t["rss_mib"] for t in per_tick),
        # One core's CPU spent on syncs alone.
        "sellers_per_core_each_minute": int(TICK_S / (cpu_ms / 1000)) if cpu_ms else None,
        "sellers_per_core": int(STEADY_S / (cpu_ms / 1000)) if cpu_ms else None,
        # One worker process of concurrency 1, by the wall clock.
        "sellers_per_process": int(STEADY_S / (wall_ms / 1000)) if wall_ms else None,
    }


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[int(0.95 * (len(ordered) - 1))], 2)


def run(settings: Settings, accounts: int, ticks: int) -> dict[str, Any]:
    return {
        "accounts": accounts,
        "ticks": ticks,
        "steady_seconds_per_sync": round(STEADY_S),
        "baseline": _one_run(settings, accounts, ticks, BASELINE),
        "ours": _one_run(settings, accounts, ticks, {}),
    }


def print_result(result: dict[str, Any]) -> None:
    ours, base = result["ours"], result["baseline"]
    print(f"sellers ({result['accounts']} accounts, one ingest worker, {result['ticks']} ticks):")
    for name, run_ in (("ours", ours), ("baseline, a client per sync", base)):
        print(f"  {name}:")
        print(
            f"    beat-to-commit per account-sync p50 {run_['beat_to_commit_p50_s']} s,"
            f" p95 {run_['beat_to_commit_p95_s']} s"
        )
        print(
            f"    CPU per account-sync {run_['cpu_ms_per_sync']} ms,"
            f" worker RSS {run_['rss_mib']} MiB"
        )
        print(
            f"    sellers one core serves: synced every minute"
            f" {run_['sellers_per_core_each_minute']}, every {result['steady_seconds_per_sync']}"
            f" s as the budget allows {run_['sellers_per_core']} (target 5,000)"
        )
        print(
            f"    wall time per account-sync {run_['wall_ms_per_sync']} ms: one worker process"
            f" (concurrency 1) serves {run_['sellers_per_process']} at the budget's pace"
        )
    print(result)  # fmt: skip
