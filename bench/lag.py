"""Lag benchmark: seconds from an order change in the sandbox to its webhook at the platform,
at Amazon's real quotas (``SANDBOX_RATE_FACTOR=1``), with notifications and by polling alone.

Each run is the whole system as ``make run`` starts it: ``amazon-channel run --sellers N`` in a
data folder of its own (embedded PostgreSQL, Redis and SQS, the sandbox, every Procfile
process), no demo orders, and ``WEBHOOK_URLS`` pointing at a small threaded HTTP server in this
process that plays the platform: it checks each request's signature and records when each
``orders/*`` event arrived, by Amazon order id. Once the run is ready and its sellers are
subscribed (``run`` subscribes the sandbox's sellers itself), the bench makes order changes
through the sandbox's control API at a fixed pace, round robin over the sellers: a new order
(``PENDING``), and every other change, when one is at the platform already, an earlier order
moved to ``UNSHIPPED`` (Amazon's "payment authorised"). Then it waits until every change has
arrived or the tail timeout passes (missing).

Polling only is the production way to run without notifications: no subscription at Amazon.
``run`` subscribes its sandbox sellers at ready, so the bench runs ``amazon-channel
notifications teardown`` for each (an operator's own command), before any change is made; the
consumer then hears nothing, the accounts' notifications never become healthy, and the sync
keeps its usual pace.

A seller's ``searchOrders`` budget starts full (a burst of 20, one call refilled about every
three minutes), so for the first quarter hour a newly connected seller is synced every minute;
a seller polled for longer is synced once per refill. The bench measures the latter, the lag a
seller lives with: before the changes start it spends each seller's budget down to the sync's
reserve (``SYNC_BUDGET_RESERVE``) through the shared limiter, the state the schedule keeps a
steady seller in. ``--fresh-budget`` leaves the burst.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.ingest import free_port
from bench.lag_report import Arrival, Change, lags, summary, table
from infra.amazon.ratelimit import RedisRateLimiter
from infra.amazon.sandbox.demo_sellers import demo_sellers
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.platform.webhooks import verify_signature
from infra.runstate import RunState, live_run_state

SECRET = "lag-bench-secret"
SEARCH_ORDERS = "orders2026.searchOrders"
START_TIMEOUT_S = 300.0
SCENARIOS = {"1x20": (1, 20.0), "20x5": (20, 5.0)}  # sellers, changes per minute each
SCENARIO_NAMES = {"1x20": "1 seller, 20 changes/min", "20x5": "20 sellers, 5 changes/min each"}


@dataclass
class Receiver:
    """The platform: a webhook endpoint recording each ``orders/*`` event's arrival."""

    arrivals: list[Arrival] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signed = verify_signature(
                    SECRET,
                    self.headers.get("X-Channel-Timestamp", ""),
                    body,
                    self.headers.get("X-Channel-Signature", ""),
                )
                event = json.loads(body)
                topic = str(event.get("topic", ""))
                data = event.get("data") or {}
                with receiver.lock:
                    if not signed:
                        receiver.bad_signatures += 1
                    elif topic.startswith("orders/") and data.get("amazon_order_id"):
                        receiver.arrivals.append(
                            Arrival(data["amazon_order_id"], topic, str(data.get("status")), at)
                        )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Hook

    def seen(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)


@contextlib.contextmanager
def platform() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, name="platform", daemon=True)
    thread.start()
    try:
        yield receiver, f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    finally:
        server.shutdown()
        server.server_close()


def _seller_ids(count: int) -> list[str]:
    return [DEMO_SELLER.seller_id, *(s.seller_id for s in demo_sellers(count))]


def _account_names(count: int) -> list[str]:
    return ["demo", *(s.name for s in demo_sellers(count))]


@dataclass
class System:
    """One ``amazon-channel run`` and what it said on stderr."""

    data_dir: Path
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def said(self, start: str) -> list[str]:
        return [line for line in list(self.lines) if line.startswith(start)]

    def env(self) -> dict[str, str]:
        return _clean_env(DATA_DIR=str(self.data_dir), LOG_LEVEL="WARNING")


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without servers of its own (the run starts embedded ones)."""
    drop = {"DATABASE_URL", "REDIS_URL", "BROKER_URL", "SQS_QUEUE_URL", "SQS_ENDPOINT_URL",
            "SPAPI_ENDPOINT", "WEBHOOK_URLS", "API_TOKENS"}  # fmt: skip
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


@contextlib.contextmanager
def system(sellers: int, webhook_url: str) -> Iterator[tuple[System, RunState]]:
    """``amazon-channel run --sellers N`` in a fresh data folder, up and ready; then Ctrl-C."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-lag-"))
    env = _clean_env(
        DATA_DIR=str(data_dir),
        SANDBOX_RATE_FACTOR="1",
        DEMO_ORDERS_PER_MINUTE="0",
        DEMO_SETTLEMENT_MINUTES="0",
        WEBHOOK_URLS=webhook_url,
        WEBHOOK_SECRET=SECRET,
        WEB_PORT=str(free_port()),
        SANDBOX_PORT=str(free_port()),
        FLOWER_PORT=str(free_port()),
        LOG_LEVEL="WARNING",
    )
    argv = [sys.executable, "-m", "workers.cli", "run", "--sellers", str(sellers)]
    log_file = (data_dir / "bench-run.log").open("w")
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    running = System(data_dir, process)

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            running.lines.append(line.rstrip("\n"))
            log_file.write(line)
            log_file.flush()

    reader = threading.Thread(target=read, name="run-stderr", daemon=True)
    reader.start()
    kept = True
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "ready" not in running.lines:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"amazon-channel run did not get ready; see {log_file.name}")
            time.sleep(0.5)
        state = live_run_state(data_dir)
        if state is None:
            raise RuntimeError("amazon-channel run is ready but wrote no run.json")
        yield running, state
        kept = False
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        reader.join(timeout=10)
        log_file.close()
        if kept:  # a failed run keeps its folder and log for a look
            print(f"lag: the run's data folder is kept: {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _await_subscriptions(running: System, sellers: int, timeout_s: float = 600.0) -> None:
    """``run`` subscribes each seller at ready, one after the other: wait for every line."""
    deadline = time.monotonic() + timeout_s
    while len(running.said("notifications: ")) < sellers:
        if time.monotonic() > deadline:
            raise RuntimeError("the sellers were not all subscribed in time")
        time.sleep(0.5)
    refused = [line for line in running.said("notifications: ") if "not subscribed" in line]
    if refused:
        raise RuntimeError(f"subscribing failed: {refused[0]}")


def _teardown(running: System, sellers: int) -> None:
    """Polling only: each seller's subscriptions removed, as an operator would."""

    def one(name: str) -> None:
        argv = [sys.executable, "-m", "workers.cli", "notifications", "teardown", name]
        done = subprocess.run(
            argv, env=running.env(), capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"notifications teardown {name}: {done.stderr.strip()[-300:]}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, _account_names(sellers)))


def _steady_budgets(state: RunState, sellers: int, reserve: int) -> None:
    """Each seller's searchOrders budget spent down to the sync's reserve (below reserve + 1),
    where the schedule holds a seller that has polled for a while: one sync per refill."""
    client = redis.Redis.from_url(state.redis_url)
    try:
        limiter = RedisRateLimiter(client, rate_factor=1.0)
        for seller_id in _seller_ids(sellers):
            key = f"{seller_id}:SANDBOX"
            while limiter.peek([key], SEARCH_ORDERS)[0].tokens >= reserve + 1:
                limiter.try_acquire(key, SEARCH_ORDERS)
    finally:
        client.close()


def _warm_up(sandbox_url: str, receiver: Receiver, sellers: int, timeout_s: float = 180.0) -> None:
    """One order per seller, awaited at the platform and not measured: a system that has run a
    while has its lazy ``notifications`` worker up (``run`` starts it at its queue's first
    message) and each seller's LWA token cached (fetched once an hour)."""
    with httpx.Client(base_url=sandbox_url, timeout=30) as http:
        ids = [
            http.post("/_sandbox/orders", json={"seller_id": s})
            .raise_for_status()
            .json()["order_id"]
            for s in _seller_ids(sellers)
        ]
    deadline = time.monotonic() + timeout_s
    while not set(ids) <= {a.order_id for a in receiver.seen()}:
        if time.monotonic() > deadline:
            raise RuntimeError("the warm-up orders did not reach the platform in time")
        time.sleep(0.5)


def _drive(
    sandbox_url: str, receiver: Receiver, sellers: int, per_minute: float, minutes: float
) -> list[Change]:
    """Order changes at ``sellers x per_minute`` a minute for ``minutes``, round robin over the
    sellers: a new order, and every other change an order at the platform moved on."""
    seller_ids = _seller_ids(sellers)
    every_s = 60.0 / (per_minute * sellers)
    total = int(minutes * 60 / every_s)
    changes: list[Change] = []
    pending: list[str] = []  # new orders not moved on yet, oldest first
    start = time.monotonic()
    with httpx.Client(base_url=sandbox_url, timeout=30) as http:
        for n in range(total):
            time.sleep(max(0.0, start + n * every_s - time.monotonic()))
            seller = seller_ids[n % sellers]
            delivered = {a.order_id for a in receiver.seen()}
            ready = [o for o in pending if o in delivered]
            if n % 2 == 1 and ready:
                order_id = ready[0]
                pending.remove(order_id)
                at = time.time()
                http.post(
                    f"/_sandbox/orders/{order_id}/status", json={"status": "UNSHIPPED"}
                ).raise_for_status()
                changes.append(Change(order_id, "UNSHIPPED", at))
                continue
            at = time.time()
            answer = http.post("/_sandbox/orders", json={"seller_id": seller, "status": "PENDING"})
            answer.raise_for_status()
            order_id = answer.json()["order_id"]
            pending.append(order_id)
            changes.append(Change(order_id, "PENDING", at))
    return changes


def _await_delivered(receiver: Receiver, changes: list[Change], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if lags(changes, receiver.seen())[1] == 0:
            return
        time.sleep(1.0)


def one_run(
    scenario: str, mode: str, minutes: float, tail_s: float, *, fresh_budget: bool, reserve: int
) -> dict[str, Any]:
    sellers, per_minute = SCENARIOS[scenario]
    started = time.monotonic()
    with platform() as (receiver, url), system(sellers, url) as (running, state):
        _await_subscriptions(running, sellers)
        if mode == "polling":
            _teardown(running, sellers)
        if mode == "notifications":
            _warm_up(state.sandbox_url, receiver, sellers)
        if not fresh_budget:
            _steady_budgets(state, sellers, reserve)
        changes = _drive(state.sandbox_url, receiver, sellers, per_minute, minutes)
        _await_delivered(receiver, changes, tail_s)
        numbers: dict[str, Any] = dict(summary(mode, changes, receiver.seen()))
        numbers["slowest"] = _slowest(changes, receiver.seen())
        numbers["bad_signatures"] = receiver.bad_signatures
    numbers["wall_s"] = round(time.monotonic() - started, 1)
    return numbers


def _slowest(changes: list[Change], arrivals: list[Arrival]) -> list[Any]:
    """The five slowest changes: their place in the run, status and seconds (where time went)."""
    timed = []
    for n, change in enumerate(changes):
        found, _ = lags([change], arrivals)
        timed.append((round(found[0], 1) if found else None, n, change.status))
    timed.sort(key=lambda t: -1e9 if t[0] is None else -t[0])
    return [{"change": n, "status": status, "lag_s": lag} for lag, n, status in timed[:5]]


def run(
    scenarios: list[str],
    modes: list[str],
    *,
    minutes: float,
    polling_minutes: float,
    tail_s: float,
    polling_tail_s: float,
    fresh_budget: bool = False,
    reserve: int = 10,
) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {s: {} for s in scenarios}
    for scenario in scenarios:
        for mode in modes:
            polling = mode == "polling"
            results[scenario][mode] = one_run(
                scenario,
                mode,
                polling_minutes if polling else minutes,
                polling_tail_s if polling else tail_s,
                fresh_budget=fresh_budget,
                reserve=reserve,
            )
            print(f"lag {scenario} {mode}: {results[scenario][mode]}", file=sys.stderr)
    met = all(n["met"] for modes_ in results.values() for n in modes_.values())
    return {
        "bench": "lag",
        "rate_factor": 1,
        "steady_budget": not fresh_budget,
        "runs": results,
        "targets_met": met,
    }


def print_result(result: dict[str, Any]) -> None:
    print("lag (order change in the sandbox -> webhook at the platform, Amazon's real quotas):")
    rows = [(SCENARIO_NAMES[s], modes) for s, modes in result["runs"].items()]
    for line in table(rows):
        print(f"  {line}")
    print(f"  targets met: {'yes' if result['targets_met'] else 'NO'}")
    print(json.dumps(result, default=str))
