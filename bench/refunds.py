"""Refund benchmark: feeds used for a thousand refunds accepted at once at Amazon's real
createFeed rate, the time until all of them are confirmed, and refunds accepted per second
through the HTTP API.

Two runs, each in a fresh database with ``count`` shipped merchant orders synced from its own
sandbox (not timed):

1. acceptance: the web process alone (no worker takes the queued flushes), ``count`` refunds
   POSTed by concurrent clients, each with its own Idempotency-Key; baseline, measured next in
   the same database: the same refund and line rows INSERTed straight into PostgreSQL with
   SQLAlchemy Core, one transaction per refund (the floor of anything that stores a refund
   before answering);
2. to Amazon: the sandbox at Amazon's real rates for every operation (it has one
   ``rate_factor`` for all of them: createFeed 1 per 120 s after a burst of 15, and
   createFeedDocument, getFeed, getFeedDocument and the Finances reads at their own real
   rates) and each feed taking 60 s to process; a real refund worker (the Procfile's, one
   process) and ``refund.sweep`` sent every 10 s as beat sends it, then ``count`` refunds
   POSTed at once. Measured: the feeds the batcher made of them, and the time from the first
   POST until every refund is confirmed (the store's state; no events worker runs, as
   confirming a refund waits for no event). Baseline, computed from the same usage plan: sent
   one by one, the same refunds are one feed each, and createFeed's budget lets them out over
   a day and a half.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import Row

from bench.fulfil import TOKEN, US, _env, _process
from bench.ingest import free_port, sandbox_process
from infra.amazon.models import usage_plan
from infra.db import migrate
from infra.db.engine import make_engine
from infra.db.tables.refunds import Refund, RefundLine
from infra.settings import Settings
from workers import bootstrap
from workers.demo import ensure_demo_account

PROCESSING_S = 60.0  # the sandbox's processing time of each feed
SWEEP_EVERY_S = 10.0  # beat's schedule for refund.sweep (``workers.schedule``)
CLIENTS = 8
SETTLE_TIMEOUT_S = 900.0
REFUNDS = Refund.metadata.tables[Refund.__tablename__]
LINES = Refund.metadata.tables[RefundLine.__tablename__]


def _sync(settings: Settings, base_url: str, rate_factor: float) -> list[tuple[str, str]]:
    """The staged orders synced into the store; (order id, item id) of each shipped one."""
    ready = settings.model_copy(
        update={"spapi_endpoint": base_url, "sandbox_rate_factor": rate_factor}
    )
    container = bootstrap.use(ready)
    try:
        ensure_demo_account(container.sessions)
        bootstrap.sync_account("demo")
        with container.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT o.amazon_order_id, i.order_item_id FROM orders o"
                " JOIN order_items i ON i.order_id = o.id WHERE o.status = 'SHIPPED'"
                " AND o.fulfilled_by = 'MERCHANT' ORDER BY o.id"
            ).all()
        return [(r[0], r[1]) for r in rows]
    finally:
        bootstrap.reset_and_close()


def _bodies(orders: list[tuple[str, str]], tag: str) -> list[dict[str, Any]]:
    """One refund per order: one unit of its line back (amounts from what the order charged)."""
    return [
        {
            "account": "demo",
            "amazon_order_id": order_id,
            "platform_refund_id": f"{tag}-{n}",
            "reason": "customer_return",
            "lines": [{"order_item_id": item_id, "quantity": 1}],
        }
        for n, (order_id, item_id) in enumerate(orders)
    ]


def _post_all(base: str, bodies: list[dict[str, Any]], concurrency: int) -> tuple[float, float]:
    """POST every body to ``/v1/refunds`` from ``concurrency`` threads, each with its own
    kept-alive connection and each request with its own Idempotency-Key; (start, end) on the
    ``perf_counter`` clock.

    ``http.client`` is the lightest load generator at hand (it shares the cores with what it
    measures); the bodies are encoded before the clock starts."""
    url = urlsplit(base)
    payloads = [
        (
            json.dumps(body).encode(),
            {
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        for body in bodies
    ]

    def post_share(share: list[tuple[bytes, dict[str, str]]]) -> None:
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
        try:
            for payload, headers in share:
                connection.request("POST", "/v1/refunds", body=payload, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 201:
                    raise RuntimeError(f"{response.status}: {answer.decode()}")
        finally:
            connection.close()

    shares = [payloads[n::concurrency] for n in range(concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post_share, shares))
    return started, time.perf_counter()


def _without_id(row: Row[Any]) -> dict[str, Any]:
    return {name: value for name, value in row._asdict().items() if name != "id"}


def _baseline_inserts(engine: Engine, tag: str) -> float:
    """The accepted refunds' rows (refund and line) INSERTed again with SQLAlchemy Core under
    new platform ids, one transaction per refund; then deleted. Refunds per second."""
    with engine.connect() as conn:
        refunds = conn.execute(select(REFUNDS).where(REFUNDS.c.platform_id.like(f"{tag}-%"))).all()
        lines: dict[int, list[Row[Any]]] = {}
        for line in conn.execute(select(LINES)).all():
            lines.setdefault(line.refund_id, []).append(line)
    rows = [
        (
            {**_without_id(refund), "platform_id": f"baseline-{n}"},
            [_without_id(line) for line in lines[refund.id]],
        )
        for n, refund in enumerate(refunds)
    ]
    add_refund = insert(REFUNDS).returning(REFUNDS.c.id)
    add_line = insert(LINES)
    started = time.perf_counter()
    for refund_row, line_rows in rows:
        with engine.begin() as conn:
            refund_id = conn.execute(add_refund, refund_row).scalar_one()
            conn.execute(add_line, [{**line, "refund_id": refund_id} for line in line_rows])
    elapsed = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(REFUNDS.delete().where(REFUNDS.c.platform_id.like("baseline-%")))
    return len(rows) / elapsed


def _celery_app(broker_url: str) -> Any:
    from workers.app import app

    # The embedded servers' URLs reach this process as settings, not environment.
    app.conf.broker_url = broker_url
    return app


def _wait_for_worker(app: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not app.control.ping(timeout=1.0):
        if time.monotonic() > deadline:
            raise RuntimeError("the refund worker did not answer a ping")


@contextlib.contextmanager
def _sweeping(app: Any, every_s: float) -> Iterator[None]:
    """``refund.sweep`` sent every ``every_s`` with beat's options, from a thread."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every_s):
            app.send_task("refund.sweep", queue="refund", routing_key="refund", expires=every_s)

    thread = threading.Thread(target=tick, name="sweep", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _states(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(REFUNDS.c.state, func.count()).group_by(REFUNDS.c.state)).all()
    return {state: int(n) for state, n in rows}


def _wait_settled(engine: Engine, total: int, timeout_s: float) -> float | None:
    """Seconds until every refund is confirmed or failed (``perf_counter``), None on timeout."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        states = _states(engine)
        if states.get("confirmed", 0) + states.get("failed", 0) >= total:
            return time.perf_counter()
        time.sleep(0.25)
    return None


def _latencies(engine: Engine) -> list[float]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT extract(epoch FROM confirmed_at - created_at) FROM refunds"
                " WHERE state = 'confirmed'"
            )
        ).all()
    return sorted(float(r[0]) for r in rows)


def _submissions(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, state, message_count, amazon_feed_id, attempts, last_error,"
                " extract(epoch FROM create_ended_at - created_at) AS built_to_created,"
                " extract(epoch FROM finished_at - create_ended_at) AS created_to_done"
                " FROM feed_submissions ORDER BY id"
            )
        ).all()
    return [
        {
            "id": r.id,
            "state": r.state,
            "messages": r.message_count,
            "amazon_feed_id": r.amazon_feed_id,
            "attempts": r.attempts,
            "last_error": r.last_error,
            "built_to_created_s": None if r.built_to_created is None else float(r.built_to_created),
            "created_to_done_s": None if r.created_to_done is None else float(r.created_to_done),
        }
        for r in rows
    ]


def _amazon_view(base_url: str) -> dict[str, Any]:
    """What the sandbox saw: its feeds, and the createFeed calls with their statuses."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        feeds = http.get("/_sandbox/feeds").json()["feeds"]
        calls = http.get(
            "/_sandbox/calls", params={"operation": "feeds.createFeed", "limit": 10_000}
        ).json()["calls"]
        throttled = http.get("/_sandbox/calls", params={"limit": 10_000}).json()["calls"]
    return {
        "feeds": len(feeds),
        "messages_processed": sum(f.get("messages_processed") or 0 for f in feeds),
        "messages_with_error": sum(f.get("messages_with_error") or 0 for f in feeds),
        "create_feed_calls": len(calls),
        "calls_throttled_429": sum(1 for c in throttled if c["status"] == 429),
    }


def _one_by_one(count: int) -> dict[str, Any]:
    """Sent one by one: a feed per refund; past createFeed's burst, one per 1/rate seconds."""
    plan = usage_plan("feeds.createFeed")
    assert plan is not None
    hours = max(count - plan.burst, 0) / plan.rate / 3600
    return {"feeds": count, "hours": round(hours, 1), "every_s": round(1 / plan.rate)}


def run(settings: Settings, count: int) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:

        def fresh_database() -> tuple[str, Engine]:
            url = stack.enter_context(migrate.scratch_database(settings.database_url, "ac_bench"))
            engine = make_engine(url, application_name="bench")
            stack.callback(engine.dispose)
            return url, engine

        return _run(fresh_database, settings, count)


def _staged(count: int, rate_factor: float) -> contextlib.AbstractContextManager[str]:
    return sandbox_process(
        count,
        fulfilled_by="MERCHANT",
        status="SHIPPED",
        items_per_order=1,
        marketplace_id=US,
        rate_factor=rate_factor,
    )


def _run(
    fresh_database: Callable[[], tuple[str, Engine]], settings: Settings, count: int
) -> dict[str, Any]:
    result: dict[str, Any] = {"refunds": count}
    app = _celery_app(settings.broker_url)
    web = [sys.executable, "-m", "workers.cli", "web"]

    # 1. Acceptance through HTTP, the web process alone; then the plain-insert floor.
    database_url, engine = fresh_database()
    ready = settings.model_copy(update={"database_url": database_url})
    with _staged(count, 0.0) as base_url:
        orders = _sync(ready, base_url, 0.0)[:count]
        env = _env(ready, base_url, 0.0)
        port = free_port()
        with _process(web, {**env, "WEB_PORT": str(port)}, f"http://127.0.0.1:{port}/healthz"):
            app.control.purge()
            started, ended = _post_all(f"http://127.0.0.1:{port}", _bodies(orders, "http"), CLIENTS)
        app.control.purge()  # the flushes the intake queued: no worker here
    result["accepted_per_s"] = round(len(orders) / (ended - started), 1)
    result["baseline_inserts_per_s"] = round(_baseline_inserts(engine, "http"), 1)
    result["accepted_ratio_to_baseline"] = round(
        result["accepted_per_s"] / result["baseline_inserts_per_s"], 3
    )

    # 2. To Amazon at its real rates, each feed processed in 60 s: a refund worker, the sweep
    #    every 10 s, and the refunds POSTed at once.
    database_url, engine = fresh_database()
    ready = settings.model_copy(update={"database_url": database_url})
    with _staged(count, 1.0) as base_url:
        orders = _sync(ready, base_url, 1.0)[:count]
        with httpx.Client(base_url=base_url, timeout=30) as http:
            http.post(
                "/_sandbox/feed-settings", json={"processing_seconds": PROCESSING_S}
            ).raise_for_status()
            http.delete("/_sandbox/calls").raise_for_status()
        env = _env(ready, base_url, 1.0)
        port = free_port()
        health = f"http://127.0.0.1:{port}/healthz"
        worker = [sys.executable, "-m", "workers.cli", "worker", "refund"]
        app.control.purge()
        with (
            _process(worker, env),
            _process(web, {**env, "WEB_PORT": str(port)}, health),
        ):
            _wait_for_worker(app)
            with _sweeping(app, SWEEP_EVERY_S):
                started, ended = _post_all(
                    f"http://127.0.0.1:{port}", _bodies(orders, "live"), CLIENTS
                )
                settled = _wait_settled(engine, len(orders), SETTLE_TIMEOUT_S)
        amazon = _amazon_view(base_url)
    latencies = _latencies(engine)
    result["live"] = {
        "refunds": len(orders),
        "accepted_per_s_with_worker": round(len(orders) / (ended - started), 1),
        "accept_s": round(ended - started, 1),
        "all_settled_s": None if settled is None else round(settled - started, 1),
        "states": _states(engine),
        "p50_s": round(statistics.median(latencies), 1) if latencies else None,
        "max_s": round(latencies[-1], 1) if latencies else None,
        "submissions": _submissions(engine),
        "amazon": amazon,
        "one_by_one": _one_by_one(len(orders)),
    }
    return result


def print_result(result: dict[str, Any]) -> None:
    live = result["live"]
    amazon, one = live["amazon"], live["one_by_one"]
    n = live["refunds"]
    print("refunds:")
    print(
        f"  feeds used for {n} refunds accepted at once, createFeed at Amazon's rate:"
        f"  {amazon['feeds']:>6}"
        f"  ({', '.join(str(s['messages']) for s in live['submissions'])} messages)"
    )
    print(
        f"  baseline, sent one by one:  {one['feeds']:>6} feeds, the last one "
        f"{one['hours']} h later (createFeed: 1 per {one['every_s']} s after a burst of 15)"
    )
    print(
        f"  createFeed calls {amazon['create_feed_calls']}, calls throttled (429) "
        f"{amazon['calls_throttled_429']}; Amazon applied {amazon['messages_processed']} "
        f"messages, {amazon['messages_with_error']} with an error"
    )
    settled = live["all_settled_s"]
    shown = "not within the timeout" if settled is None else f"{settled} s"
    print(
        f"  first POST to all confirmed, feeds processed in {PROCESSING_S:g} s "
        f"(target 300 s):  {shown}"
    )
    print(
        f"  acceptance to confirmation: p50 {live['p50_s']} s, max {live['max_s']} s; "
        f"states {live['states']}"
    )
    print(f"  refunds accepted per second through the API:  {result['accepted_per_s']:>8}")
    print(
        f"  baseline, plain SQLAlchemy inserts per second:  {result['baseline_inserts_per_s']:>8}"
        f"  (ratio {result['accepted_ratio_to_baseline']})"
    )
    print(
        f"  accepted per second with the refund worker running:  "
        f"{live['accepted_per_s_with_worker']:>8}"
    )
    print(json.dumps(result, default=str))
