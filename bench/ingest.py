"""Ingestion benchmark: orders per second from the sandbox (limits lifted) into the store,
beside a baseline measured in the same run, and a worker's memory through a long backfill.

- ours: the real path (SP-API client over HTTP -> translation -> per-page upserts with items,
  outbox events and the cursor, one transaction per page);
- baseline: plain psycopg ``INSERT ... ON CONFLICT`` of the same order rows (no items, no
  events, no HTTP), the floor a store cannot beat;
- memory: a backfill of ``--backfill`` orders in a child process, its RSS sampled as it goes:
  flat means pages are streamed, not accumulated.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import psycopg

from domain.ingestion import sync_orders
from infra.amazon.gateways import SpApiOrdersSource
from infra.amazon.translate import fetched
from infra.db import migrate
from infra.db.engine import libpq_url
from infra.db.ingestion import order_row
from infra.settings import Settings
from workers import bootstrap
from workers.demo import ensure_demo_account


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def sandbox_process(
    count: int,
    *,
    fulfilled_by: str | None = None,
    status: str | None = None,
    items_per_order: int | None = None,
    marketplace_id: str | None = None,
    rate_factor: float = 0.0,
) -> Iterator[str]:
    """The sandbox in its own process (Amazon's work is not ours), limits lifted by default,
    ``count`` orders staged and visible; yields its base URL."""
    port = free_port()
    argv = ["sandbox", "--port", str(port), "--rate-factor", str(rate_factor), "--in-memory"]
    child = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", *argv],
        env=dict(os.environ, LOG_LEVEL="WARNING"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    http.get("/_sandbox/clock").raise_for_status()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            for start in range(0, count, 5000):
                http.post(
                    "/_sandbox/orders/bulk",
                    json={
                        "count": min(5000, count - start),
                        "spread_seconds": 3600,
                        "seed": start,
                        "fulfilled_by": fulfilled_by,
                        "status": status,
                        "items_per_order": items_per_order,
                        "marketplace_id": marketplace_id,
                    },
                ).raise_for_status()
            http.post("/_sandbox/clock/advance", json={"seconds": 180}).raise_for_status()
        yield base_url
    finally:
        child.terminate()
        child.wait(timeout=30)


def measure_ours(settings: Settings, count: int) -> tuple[float, list[dict[str, Any]]]:
    """Orders/s through the real path, and the raw orders (for the baseline)."""
    with sandbox_process(count) as base_url:
        ready = settings.model_copy(update={"spapi_endpoint": base_url, "sandbox_rate_factor": 0.0})
        container = bootstrap.use(ready)
        account = ensure_demo_account(container.sessions)
        client = container.amazon_client(account)
        raw_orders: list[dict[str, Any]] = []
        clock = container.clock
        # Warm up: token, connections.
        client.search_orders_raw(last_updated_after=clock.now(), included_data=(), max_results=1)
        started = time.perf_counter()
        with SpApiOrdersSource(client) as source:  # as bootstrap.sync_account builds it
            report = sync_orders(
                account_id=account.id,
                source=source,
                store=container.ingestion_store,
                clock=clock,
                start=clock.now().replace(year=2000),
            )
        elapsed = time.perf_counter() - started
        assert report.created + report.set_aside == count, report
        body = client.search_orders_raw(
            last_updated_after=clock.now().replace(year=2000),
            included_data=("PROCEEDS", "CANCELLATION", "FULFILLMENT", "PACKAGES"),
            max_results=100,
        )
        raw_orders.extend(body["orders"])
        token = (body.get("pagination") or {}).get("nextToken")
        while token:
            body = client.search_orders_raw(
                last_updated_after=clock.now().replace(year=2000),
                pagination_token=token,
                included_data=("PROCEEDS", "CANCELLATION", "FULFILLMENT", "PACKAGES"),
                max_results=100,
            )
            raw_orders.extend(body["orders"])
            token = (body.get("pagination") or {}).get("nextToken")
        bootstrap.reset_and_close()
    return count / elapsed, raw_orders


def measure_baselines(database_url: str, raw_orders: list[dict[str, Any]]) -> dict[str, float]:
    """Plain psycopg upserts of the same order rows (orders only: no items, events or HTTP).

    - ``plain``: one ``INSERT ... ON CONFLICT`` statement per order, a commit per 100 orders
      (how a straightforward integration writes);
    - ``pipelined``: the same statement through ``executemany`` (psycopg pipelines it), a
      commit per 100: the floor that no per-order write path can beat.
    """
    rows = []
    for raw in raw_orders:
        result = fetched(raw)
        if result.order is not None:
            rows.append(order_row(1, result.order, result.order.content_hash()))
    columns = list(rows[0])
    sql = (
        f"INSERT INTO orders ({', '.join(columns)}) VALUES "
        f"({', '.join('%s' for _ in columns)}) ON CONFLICT (account_id, amazon_order_id) "
        "DO UPDATE SET status = excluded.status, content_hash = excluded.content_hash"
    )
    values = [tuple(r[c] for c in columns) for r in rows]
    rates: dict[str, float] = {}
    with psycopg.connect(libpq_url(database_url)) as conn:
        for name in ("plain", "pipelined"):
            conn.execute("TRUNCATE orders CASCADE")
            conn.commit()
            started = time.perf_counter()
            for start in range(0, len(values), 100):
                with conn.cursor() as cur:
                    if name == "plain":
                        for value in values[start : start + 100]:
                            cur.execute(sql, value)
                    else:
                        cur.executemany(sql, values[start : start + 100])
                conn.commit()
            rates[name] = len(values) / (time.perf_counter() - started)
    return rates


def measure_backfill_memory(database_url: str, redis_url: str, count: int) -> dict[str, float]:
    """A backfill of ``count`` orders in a child process; its RSS sampled every 0.2 s."""
    with sandbox_process(count) as base_url:
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            SPAPI_ENDPOINT=base_url,
            SANDBOX_RATE_FACTOR="0",
            LOG_LEVEL="WARNING",
        )
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.backfill_child"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        process = psutil.Process(child.pid)
        samples: list[tuple[float, float]] = []
        started = time.perf_counter()
        while child.poll() is None:
            try:
                samples.append((time.perf_counter() - started, process.memory_info().rss / 2**20))
            except psutil.NoSuchProcess:
                break
            time.sleep(0.2)
        out = child.stdout.read().decode() if child.stdout else ""
        if child.returncode != 0:
            raise RuntimeError(f"backfill child failed: {out}")
    elapsed = time.perf_counter() - started
    rss = [mb for _, mb in samples] or [0.0]
    fifth = max(1, len(rss) // 5)
    return {
        "orders": float(count),
        "seconds": elapsed,
        "rss_first_fifth_mb": max(rss[:fifth]),
        "rss_last_fifth_mb": max(rss[-fifth:]),
        "rss_peak_mb": max(rss),
    }


def run(settings: Settings, count: int, backfill: int) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:  # the scratch databases are dropped at the end
        return _run(stack, settings, count, backfill)


def _run(
    stack: contextlib.ExitStack, settings: Settings, count: int, backfill: int
) -> dict[str, Any]:
    database_url = stack.enter_context(migrate.scratch_database(settings.database_url, "ac_bench"))
    ours, raw = measure_ours(settings.model_copy(update={"database_url": database_url}), count)
    baselines = measure_baselines(database_url, raw)
    result: dict[str, Any] = {
        "orders": count,
        "ours_orders_per_s": round(ours, 1),
        "baseline_plain_orders_per_s": round(baselines["plain"], 1),
        "ratio_to_plain": round(ours / baselines["plain"], 3),
        "baseline_pipelined_orders_per_s": round(baselines["pipelined"], 1),
        "ratio_to_pipelined": round(ours / baselines["pipelined"], 3),
    }
    if backfill:
        memory_db = stack.enter_context(migrate.scratch_database(settings.database_url, "ac_bench"))
        result["backfill"] = {
            k: round(v, 1)
            for k, v in measure_backfill_memory(memory_db, settings.redis_url, backfill).items()
        }
    return result


def print_result(result: dict[str, Any]) -> None:
    print("ingest:")
    print(f"  orders ingested per second (ours):     {result['ours_orders_per_s']:>10}")
    print(f"  baseline, plain psycopg upserts/s:     {result['baseline_plain_orders_per_s']:>10}")
    print(f"  ratio to plain baseline (target 0.3):  {result['ratio_to_plain']:>10}")
    print(
        f"  floor, pipelined executemany/s:        {result['baseline_pipelined_orders_per_s']:>10}"
    )
    print(f"  ratio to pipelined floor:              {result['ratio_to_pipelined']:>10}")
    if "backfill" in result:
        b = result["backfill"]
        print(f"  backfill of {int(b['orders'])} orders: {b['seconds']} s; worker RSS "
              f"first fifth {b['rss_first_fifth_mb']} MiB, last fifth {b['rss_last_fifth_mb']} "
              f"MiB, peak {b['rss_peak_mb']} MiB")  # fmt: skip
    print(json.dumps(result))
