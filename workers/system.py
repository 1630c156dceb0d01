"""The running system: how a command reaches it (``services``) and how ``amazon-channel run``
starts it (``run_all``).

``run_all`` starts the embedded PostgreSQL and Redis when no URLs are given (saying so, with the
data folder), and the embedded SQS for Amazon's notifications when no ``SQS_QUEUE_URL`` is,
migrates, starts the sandbox with a demo seller when no Amazon credentials are
given, then every Procfile process under the ``Supervisor``. Once everything answers it writes
``run.json`` in the data folder (``infra.runstate``), queues the first order sync at once (not a
beat interval later), and prints a short block: the URLs, the demo token, the data folder, then
``ready``. Ctrl-C stops the children (Celery's warm shutdown), removes ``run.json``, stops the
servers, and prints ``stopped`` last.

Any other command (``services``) with no server URLs in its environment reaches the run that is
up in the same data folder through its ``run.json``: no environment copied from one shell to
another, and no server started twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis

from infra import sqs
from infra.broker import QueueProbe
from infra.db import migrate
from infra.embedded import EmbeddedServices, EmbeddedSqs, ServiceUrls, check_reachable
from infra.runstate import (
    RunState,
    live_run_state,
    process_started_at,
    remove_run_state,
    write_run_state,
)
from infra.settings import Settings, load_settings
from workers.schedule import SELF_SWEEPS
from workers.supervisor import ProcessSpec, Supervisor, child_environment, procfile_processes

log = logging.getLogger(__name__)

DEMO_API_TOKEN = "demo-token"  # noqa: S105 (only ever handed out against the sandbox)
# A lazy worker, once started for a system, starts at once in that system's later runs: its
# store may hold work that only the queue's own sweep moves on (``workers.schedule.SELF_SWEEPS``).
LAZY_STARTED_KEY = "amazon-channel:supervisor:started:"
PING_TIMEOUT_S = 1.0
SLOW_START_S = 90.0  # then say what is not up yet
HTTP_TIMEOUT_S = 1.0
# The Procfile's notifications consumer: started only when an SQS queue is known.
CONSUMER = "notifications-consumer"


class AlreadyRunning(RuntimeError):
    """An ``amazon-channel run`` is already up in this data folder."""


def announce(line: str) -> None:
    """A line for the person at the terminal (stderr, beside the logs), not a log record."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def configured(settings: Settings) -> bool:
    """The environment names servers of its own (then no ``run.json`` is read)."""
    return bool(settings.database_url or settings.redis_url or settings.broker_url)


def urls_of(settings: Settings) -> ServiceUrls:
    return ServiceUrls(settings.database_url, settings.redis_url, settings.broker_url)


def reaching(settings: Settings, state: RunState) -> Settings:
    """``settings`` pointed at the servers (and sandbox) of the run ``state`` describes."""
    update: dict[str, object] = {
        "database_url": state.database_url,
        "redis_url": state.redis_url,
        "broker_url": state.broker_url,
    }
    if state.sandbox_url and settings.uses_sandbox() and not settings.spapi_endpoint:
        update["spapi_endpoint"] = state.sandbox_url
    if state.sqs_queue_url and not settings.sqs_queue_url:
        update["sqs_queue_url"] = state.sqs_queue_url
        update["sqs_endpoint_url"] = settings.sqs_endpoint_url or state.sqs_endpoint_url
    return settings.model_copy(update=update)


@contextlib.contextmanager
def services(settings: Settings) -> Iterator[Settings]:
    """Settings whose URLs all point at running servers: the environment's, else those of the
    ``amazon-channel run`` up in the data folder, else embedded ones started here (and stopped
    at the end). ``ServiceUnreachable`` names a server that does not answer and its URL."""
    running = None if configured(settings) else live_run_state(settings.data_dir)
    if running is not None:
        ready = reaching(settings, running)
        check_reachable(urls_of(ready))
        yield ready
        return
    with started_services(settings) as ready:
        yield ready


@contextlib.contextmanager
def started_services(settings: Settings) -> Iterator[Settings]:
    """The environment's servers, with embedded ones started for the URLs it leaves empty."""
    embedded = EmbeddedServices(settings.data_dir)
    if embedded.needed(settings.database_url, settings.redis_url, settings.broker_url):
        announce(f"starting the embedded servers in {settings.data_dir} ...")
    try:
        urls = embedded.start(settings.database_url, settings.redis_url, settings.broker_url)
        check_reachable(urls)
        yield settings.model_copy(
            update={
                "database_url": urls.database_url,
                "redis_url": urls.redis_url,
                "broker_url": urls.broker_url,
            }
        )
    finally:
        embedded.stop()


def sandbox_spec(settings: Settings, sellers: int = 1) -> ProcessSpec:
    return ProcessSpec(
        "sandbox",
        (
            sys.executable,
            "-m",
            "workers.cli",
            "sandbox",
            "--demo-orders-per-minute",
            str(settings.demo_orders_per_minute),
            "--sellers",
            str(sellers),
            "--demo-settlement-minutes",
            str(settings.demo_settlement_minutes),
        ),
    )


def run_all(
    settings: Settings | None = None,
    specs: list[ProcessSpec] | None = None,
    *,
    sellers: int = 1,
) -> int:
    """Everything (``specs``: the Procfile's processes, and the sandbox when it is used, with
    ``sellers`` demo sellers on both sides)."""
    settings = settings or load_settings()
    running = live_run_state(settings.data_dir)
    if running is not None:
        raise AlreadyRunning(
            f"amazon-channel run is already running in {settings.data_dir} "
            f"(pid {running.pid}, web {running.web_url}); stop it first, or set DATA_DIR"
        )
    with started_services(settings) as ready, notifications_queue(ready) as ready:
        migrate.upgrade(ready.database_url)
        metrics_folder(ready)
        extra: dict[str, str] = {}
        if ready.sqs_endpoint_url and not settings.sqs_queue_url:
            # boto3 signs every request; moto takes any key. Only the embedded server's children
            # get these, and they are never logged.
            extra["AWS_ACCESS_KEY_ID"] = sqs.EMBEDDED_ACCESS_KEY_ID
            extra["AWS_SECRET_ACCESS_KEY"] = sqs.EMBEDDED_SECRET_ACCESS_KEY
        token = ""
        if specs is None:
            specs = procfile_processes()
            if not ready.sqs_queue_url:  # no queue known: polling alone
                specs = [s for s in specs if s.name != CONSUMER]
            if ready.uses_sandbox():
                token = _prepare_sandbox(ready, extra, sellers)
                specs.insert(0, sandbox_spec(ready, sellers))
        code = supervise(ready, specs, extra, api_token=token)
    announce("stopped")
    return code


@contextlib.contextmanager
def notifications_queue(ready: Settings) -> Iterator[Settings]:
    """``SQS_QUEUE_URL``'s queue, else the embedded SQS started (or reused) in the data folder
    and stopped at the end; the settings name it either way."""
    if ready.sqs_queue_url:
        yield ready
        return
    embedded = EmbeddedSqs(ready.data_dir, ready.aws_region)
    try:
        server = embedded.start()
        yield ready.model_copy(
            update={"sqs_queue_url": server.queue_url, "sqs_endpoint_url": server.endpoint_url}
        )
    finally:
        embedded.stop()


def metrics_folder(ready: Settings) -> Path:
    """The workers' metrics folder, emptied: a run counts from zero (``infra.metrics``). Each
    worker finds it from DATA_DIR (``amazon-channel worker``)."""
    from infra.metrics import fresh_folder

    return fresh_folder(ready.metrics_dir())


def _prepare_sandbox(ready: Settings, extra: dict[str, str], sellers: int = 1) -> str:
    """The demo sellers' accounts (``demo``, then ``demo-seller-2..sellers``), and the demo API
    token unless ``API_TOKENS`` gives some."""
    from workers.bootstrap import Container
    from workers.demo import ensure_demo_account
    from workers.demo_sellers import ensure_demo_sellers

    setup = Container(ready)
    try:
        ensure_demo_account(setup.sessions)
        if sellers > 1:
            added = ensure_demo_sellers(setup.sessions, sellers).accounts_added
            log.info("demo sellers: %d accounts (%d new)", sellers, added)
    finally:
        setup.close()
    if ready.demo_settlement_minutes > 0:
        # The demo's periods close every few minutes: fetch at half that pace, so a settlement
        # shows up within a period of its close (Amazon's own: hourly is prompt enough).
        every = max(60.0, ready.demo_settlement_minutes * 30)
        extra["PAYOUT_FETCH_INTERVAL_SECONDS"] = str(
            min(ready.payout_fetch_interval_seconds, every)
        )
    if ready.api_token_list():
        return ""
    # A token for trying the API against the sandbox; production sets API_TOKENS.
    extra["API_TOKENS"] = DEMO_API_TOKEN
    return DEMO_API_TOKEN


def supervise(
    ready: Settings, specs: list[ProcessSpec], extra: dict[str, str], *, api_token: str = ""
) -> int:
    """Run ``specs`` under the supervisor until a signal; ``run.json`` while everything is up."""
    from workers import bootstrap

    bootstrap.use(ready)  # the Celery app below (ping, the first sync) uses these servers
    lazy = LazyWork(ready)
    state = run_state(ready, specs, api_token)
    supervisor = Supervisor(
        specs,
        child_environment(ready, **extra),
        has_work=lazy.has_work,
        is_ready=Readiness(ready, specs).check,
        on_ready=lambda: _on_ready(ready, specs, state),
    )
    try:
        return supervisor.run()
    finally:
        remove_run_state(ready.data_dir, os.getpid())
        lazy.close()
        bootstrap.reset_and_close()


def _local(host: str) -> str:
    """A host a browser on this machine can open (``0.0.0.0`` binds everything)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104


def run_state(ready: Settings, specs: list[ProcessSpec], api_token: str) -> RunState:
    names = {spec.name for spec in specs}
    web = f"http://{_local(ready.web_host)}:{ready.web_port}" if "web" in names else ""
    sandbox = ready.resolved_spapi_endpoint() if "sandbox" in names else ""
    return RunState(
        pid=os.getpid(),
        pid_started_at=process_started_at(os.getpid()) or 0.0,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        data_dir=str(ready.data_dir),
        database_url=ready.database_url,
        redis_url=ready.redis_url,
        broker_url=ready.broker_url,
        sandbox_url=sandbox,
        web_url=web,
        docs_url=f"{web}/docs" if web else "",
        metrics_url=f"{web}/metrics" if web else "",
        flower_url=f"http://127.0.0.1:{ready.flower_port}" if "flower" in names else "",
        api_token=api_token,
        sqs_queue_url=ready.sqs_queue_url,
        sqs_endpoint_url=ready.sqs_endpoint_url,
    )


def ready_block(state: RunState) -> list[str]:
    """What ``run`` prints once everything is up, ending with ``ready``."""
    rows = [
        ("web", state.web_url),
        ("docs", state.docs_url),
        ("operators", f"{state.web_url}/ops/" if state.web_url else ""),
        ("Flower", state.flower_url),
        ("metrics", state.metrics_url),
        ("sandbox", state.sandbox_url),
        ("sqs", state.sqs_queue_url),
        ("API token", f"{state.api_token}   (export TOKEN={state.api_token})"
         if state.api_token else ""),
        ("data", state.data_dir),
    ]  # fmt: skip
    lines = [f"  {label:<10} {value}" for label, value in rows if value]
    lines.append(f"  another terminal, any folder: {_this_cli()} orders list")
    return ["", *lines, "ready"]


def _this_cli() -> str:
    """This installation's ``amazon-channel``, in full when it is not on the PATH (a
    checkout's ``.venv``), so the hint works as pasted."""
    beside = Path(sys.executable).parent / "amazon-channel"
    on_path = shutil.which("amazon-channel")
    if beside.exists() and (on_path is None or Path(on_path) != beside):
        return str(beside)
    return "amazon-channel"


def _on_ready(ready: Settings, specs: list[ProcessSpec], state: RunState) -> None:
    """Everything answers: the run state for other shells, the first sync now, the block."""
    state = dataclasses.replace(state, started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    write_run_state(ready.data_dir, state)
    if any(spec.queue == "ingest" for spec in specs):
        from workers.app import app

        # The pending marks of ``ingest.sync_all`` make this and beat's first tick one sync.
        app.send_task("ingest.sync_all", expires=ready.sync_interval_seconds)
    for line in ready_block(state):
        announce(line)
    if ready.uses_sandbox() and any(spec.name == CONSUMER for spec in specs):
        threading.Thread(
            target=subscribe_sandbox_sellers, args=(ready,), name="notifications-setup", daemon=True
        ).start()


def subscribe_sandbox_sellers(ready: Settings) -> None:
    """Against the sandbox, each seller's notifications subscribed to the run's queue, as a
    person would from another terminal (``notifications setup NAME``: the same gateway, here in
    this process, which makes nothing twice), so an order change reaches the store within
    seconds from the first minute. Off the supervisor's loop; one line per seller. A real seller
    is subscribed by its operator, once: its destination and subscriptions live at Amazon, not
    in this run."""
    from infra.db.accounts import list_accounts
    from workers.bootstrap import Container
    from workers.notifications_setup import SetupRefused, subscribe

    container = Container(ready)
    try:
        names = [a.name for a in list_accounts(container.sessions, connected_only=True)
                 if a.region == "SANDBOX"]  # fmt: skip
        for name in names:
            try:
                subscribe(container, ready, name)
            except SetupRefused as exc:
                announce(f"notifications: {name} not subscribed: {exc}")
            except Exception as exc:  # noqa: BLE001 (a thread's edge: said, never raised)
                announce(f"notifications: {name} not subscribed: {type(exc).__name__}: {exc}")
            else:
                announce(f"notifications: {name} subscribed (order changes, feeds, reports)")
    finally:
        container.close()


class Readiness:
    """Everything the run starts answers: the sandbox, web and Flower over HTTP, the workers
    started at once to Celery's ping (the lazy ones are not waited for)."""

    def __init__(self, ready: Settings, specs: list[ProcessSpec]) -> None:
        names = {spec.name for spec in specs}
        self.urls: list[str] = []
        if "sandbox" in names:
            self.urls.append(ready.resolved_spapi_endpoint())
        if "web" in names:
            self.urls.append(f"http://{_local(ready.web_host)}:{ready.web_port}/healthz")
        if "flower" in names:
            self.urls.append(f"http://127.0.0.1:{ready.flower_port}/healthcheck")
        host = socket.gethostname()
        self.workers = {f"{s.queue}@{host}" for s in specs if s.queue is not None and not s.lazy}
        self.warn_at: float | None = time.monotonic() + SLOW_START_S

    def check(self) -> bool:
        silent = [url for url in self.urls if not self._answers(url)]
        if not silent and self._workers_answer():
            return True
        if self.warn_at is not None and time.monotonic() >= self.warn_at:
            self.warn_at = None  # once: the logs above say why
            log.warning(
                "not ready after %.0fs: waiting for %s",
                SLOW_START_S,
                ", ".join(silent) or "the workers to answer a ping",
            )
        return False

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return httpx.get(url, timeout=HTTP_TIMEOUT_S).status_code < 500
        except httpx.HTTPError:
            return False

    def _workers_answer(self) -> bool:
        if not self.workers:
            return True
        from workers.app import app

        try:
            replies = app.control.ping(
                destination=sorted(self.workers), timeout=PING_TIMEOUT_S, limit=len(self.workers)
            )
        except Exception as exc:  # noqa: BLE001 (the broker is still starting: ask again)
            log.debug("worker ping failed: %s", exc)
            return False
        answered = {name for reply in replies for name in reply}
        return self.workers <= answered


class LazyWork:
    """Whether a lazy worker's queue has work: a message other than its own sweep's tick
    (``SELF_SWEEPS``) waits on it, or the worker was started for this system before (its store
    may hold work only that sweep moves on; remembered in Redis). Until then the sweep's ticks
    are taken off the queue as they come: nobody would read them before they expire."""

    def __init__(self, ready: Settings) -> None:
        self.probe = QueueProbe(ready.broker_url)
        self.redis = redis.Redis.from_url(ready.redis_url, socket_timeout=5)

    def has_work(self, queue: str) -> bool:
        key = LAZY_STARTED_KEY + queue
        with contextlib.suppress(redis.RedisError):
            if self.redis.exists(key):
                return True
        if not self.probe.has_work(queue, housekeeping=SELF_SWEEPS):
            # Beat's ticks for it would pile up unread (each expires in seconds): gone.
            self.probe.discard(queue, SELF_SWEEPS)
            return False
        with contextlib.suppress(redis.RedisError):
            self.redis.set(key, 1)
        return True

    def close(self) -> None:
        self.probe.close()
        self.redis.close()
