"""One fault run's whole system, owned by the test: its own Redis and PostgreSQL (each behind a
``TcpProxy``), a sandbox, the web process, a fulfil worker, an ingest+events worker and beat as
subprocesses (a refund worker too when the scenario posts refunds), with short timeouts so a
scenario takes seconds. ``Load`` posts fulfilments through the web API the way the platform does
(a 5xx or a dropped connection is retried with the same Idempotency-Key) and stages new orders
on Amazon for the order sync to find."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db import migrate
from infra.db.engine import libpq_url, make_engine, make_session_factory
from infra.secrets import new_key
from infra.settings import load_settings
from tests.faults.harness.proxy import TcpProxy
from tests.faults.harness.rabbit import RabbitServer
from tests.faults.harness.servers import PostgresCluster, RedisServer
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.scenarios import (
    TOKEN,
    fulfil_env,
    fulfilment_body,
    on_sandbox,
    project_app,
    shipped_at_now,
    synced_merchant_orders,
    web_process,
)
from workers.demo import ensure_demo_account

RATE_FACTOR = 200.0
# What makes a scenario short: messages of a dead consumer back in 10 s, a sync every 3 s.
SHORT = {
    "BROKER_VISIBILITY_TIMEOUT": "10",
    "SYNC_INTERVAL_SECONDS": "3",
    "SYNC_PAGE_SIZE": "10",
}


@dataclass
class BeatProcess:
    """``celery beat`` (RedBeat) in a session of its own; ready when it says so. ``supervised``:
    started again when it exits, as ``amazon-channel run``'s supervisor does (``restarts``
    counts them; beat exits when its Redis connection breaks, see the Redis scenarios)."""

    env: dict[str, str]
    log_path: Path
    supervised: bool = True
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    _stopping: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None

    def start(self, timeout_s: float = 60) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.app", "beat", "--loglevel", "INFO"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if b"beat ready." in self.log_path.read_bytes()[offset:]:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"beat exited early:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"beat not ready:\n{self.log_path.read_text()[-3000:]}")

    def supervise(self) -> None:
        def watch() -> None:
            while not self._stopping.wait(1):
                if self.process is not None and self.process.poll() is not None:
                    self.restarts += 1
                    with contextlib.suppress(RuntimeError):
                        self.start()

        self._watcher = threading.Thread(target=watch, name="beat-supervisor", daemon=True)
        self._watcher.start()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive:
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=70)
        if self.alive:
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Stack:
    root: Path
    redis: RedisServer
    postgres: PostgresCluster
    redis_proxy: TcpProxy
    pg_proxy: TcpProxy
    sandbox: SandboxHandle
    engine: Engine  # straight to PostgreSQL: the checker reads past the proxy
    env: dict[str, str]
    workers: dict[str, WorkerProcess] = field(default_factory=dict)
    beat: BeatProcess | None = None
    web: str = ""
    orders: list[tuple[str, str, int]] = field(default_factory=list)
    # With ``broker="rabbitmq"``: the broker's node and its proxy (Redis then serves the rate
    # budgets and RedBeat only).
    rabbit: RabbitServer | None = None
    rabbit_proxy: TcpProxy | None = None

    def start_processes(
        self, with_beat: bool = True, supervised: bool = True, refunds: bool = False
    ) -> None:
        """The workers (with ``refunds``, a refund worker too) and beat, each ready."""
        for queue in ("fulfil", "ingest,events", *(("refund",) if refunds else ())):
            name = queue.split(",")[0]
            process = WorkerProcess(queue, self.env, self.root / f"worker-{name}.log")
            process.start()
            self.workers[name] = process
        if with_beat:
            self.beat = BeatProcess(self.env, self.root / "beat.log", supervised)
            self.beat.start()
            if supervised:
                self.beat.supervise()

    def stop_processes(self) -> None:
        if self.beat is not None:
            self.beat.stop()
        for process in self.workers.values():
            process.stop()

    def arrive(self, count: int, seed: int) -> list[str]:
        """``count`` new orders on Amazon, visible to the next sync."""
        ids = create_bulk(
            self.sandbox.state, count, seller_id=DEMO_SELLER.seller_id, marketplace_id=None,
            fulfilled_by=None, status=None, items_per_order=None, spread_seconds=30, seed=seed,
        )  # fmt: skip
        self.sandbox.state.advance_clock(180)
        return ids

    def logs(self) -> str:
        """The tail of every process's log, for a failure's message."""
        parts = []
        for path in sorted(self.root.glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2500:]}")
        return "\n".join(parts)


@contextlib.contextmanager
def fault_stack(root: Path, orders: int, broker: str = "redis", **env: str) -> Iterator[Stack]:
    """The servers, the database migrated, ``orders`` merchant orders synced, the web up; the
    workers and beat are started by the scenario (``start_processes``). ``broker``: ``redis``
    (one Redis for everything) or ``rabbitmq`` (a RabbitMQ node of the run's own, behind a
    proxy of its own, as the broker)."""
    redis_server = RedisServer(root / "redis")
    postgres = PostgresCluster(root / "pg")
    rabbit = RabbitServer(root / "rabbit") if broker == "rabbitmq" else None
    redis_server.start()
    postgres.create()
    redis_proxy = TcpProxy("127.0.0.1", redis_server.port).start()
    pg_proxy = TcpProxy("127.0.0.1", postgres.port).start()
    rabbit_proxy = None
    if rabbit is not None:
        rabbit.start()
        rabbit_proxy = TcpProxy("127.0.0.1", rabbit.port).start()
    direct = _database(postgres)
    database_url = direct.replace(f":{postgres.port}/", f":{pg_proxy.port}/")
    redis_url = f"redis://127.0.0.1:{redis_proxy.port}/0"
    broker_url = redis_url
    if rabbit_proxy is not None:
        broker_url = f"amqp://guest:guest@127.0.0.1:{rabbit_proxy.port}//"
    # This process's app was configured for its own (Redis) broker: on RabbitMQ it stays away
    # (the node is new, nothing to purge; the web and the workers publish with their own).
    app_on_broker = project_app(broker_url) if rabbit is None else contextlib.nullcontext()
    os.environ.setdefault("SECRETS_KEY", new_key())
    engine = make_engine(direct, application_name="fault-checker")
    try:
        with running_sandbox(rate_factor=RATE_FACTOR) as sandbox, app_on_broker:
            child = {
                **fulfil_env(dict(os.environ), sandbox, RATE_FACTOR),
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "BROKER_URL": broker_url,
                "DATA_DIR": str(root / "data"),
                **SHORT,
                **env,
            }
            stack = Stack(
                root, redis_server, postgres, redis_proxy, pg_proxy, sandbox, engine, child,
                rabbit=rabbit, rabbit_proxy=rabbit_proxy,
            )  # fmt: skip
            settings = load_settings(
                database_url=database_url, redis_url=redis_url, broker_url=broker_url,
                data_dir=root / "data",
            )  # fmt: skip
            ensure_demo_account(make_session_factory(engine))
            stack.orders = synced_merchant_orders(
                sandbox, on_sandbox(settings, sandbox, RATE_FACTOR), orders
            )
            with web_process(child, root) as base:
                stack.web = base
                try:
                    yield stack
                finally:
                    stack.stop_processes()
    finally:
        engine.dispose()
        pg_proxy.stop()
        redis_proxy.stop()
        redis_server.stop()
        if rabbit_proxy is not None:
            rabbit_proxy.stop()
        if rabbit is not None:
            rabbit.stop()
        postgres.destroy()


def _database(postgres: PostgresCluster) -> str:
    import psycopg

    with psycopg.connect(libpq_url(postgres.url()), autocommit=True) as conn:
        conn.execute('CREATE DATABASE "amazon_channel"')
    url = postgres.url("amazon_channel")
    migrate.upgrade(url)
    return url


@dataclass
class Load:
    """The platform posting fulfilments in a thread of its own: each retried (same
    Idempotency-Key) until the web answers 201 or refuses it; ``accepted`` holds the 201s."""

    stack: Stack
    orders: list[tuple[str, str, int]]
    accepted: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)
    pace_s: float = 0.2
    _thread: threading.Thread | None = None

    def start(self) -> Load:
        self._thread = threading.Thread(target=self._post_all, name="load", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout_s: float = 120) -> None:
        assert self._thread is not None
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the load did not finish posting"
        assert not self.refused, f"fulfilments refused: {self.refused}"

    def _post_all(self) -> None:
        shipped_at = shipped_at_now()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=self.stack.web, timeout=10) as http:
            for n, order in enumerate(self.orders):
                platform_id = f"F-{n}"
                body = fulfilment_body(platform_id, order, shipped_at)
                key = {"Idempotency-Key": str(uuid.uuid4()), **headers}
                self._post(http, platform_id, body, key)
                time.sleep(self.pace_s)

    def _post(self, http: httpx.Client, platform_id: str, body: Any, headers: Any) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                answer = http.post("/v1/fulfilments", json=body, headers=headers)
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            if answer.status_code in (200, 201):
                self.accepted.add(platform_id)
                return
            if answer.status_code < 500 and answer.status_code not in (408, 409, 429):
                self.refused[platform_id] = answer.text[:300]
                return
            time.sleep(0.5)
        self.refused[platform_id] = "no answer within 120 s"


def confirmed_at_least(stack: Stack, count: int, timeout_s: float = 60) -> None:
    from tests.integration.workers.scenarios import confirmed

    wait_for(lambda: confirmed(stack.engine) >= count, timeout_s)
