"""``amazon-channel run``: the whole system in one terminal, the same processes as the Procfile.

Starts the embedded PostgreSQL and Redis when no URLs are given, migrates, starts the sandbox
with a demo seller when no Amazon credentials are given, then every Procfile process as a child.
Ctrl-C (SIGINT) or SIGTERM stops the children (SIGTERM, then SIGKILL after a grace period), then
the embedded servers. A child that dies is restarted with a back-off, as a process manager would.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infra.db import migrate
from infra.embedded import EmbeddedServices
from infra.settings import Settings, load_settings
from workers.queues import QUEUES

log = logging.getLogger(__name__)

GRACE_S = 35.0  # longer than the workers' soft shutdown (30 s)
DEMO_API_TOKEN = "demo-token"  # noqa: S105 (only ever handed out against the sandbox)
PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    name: str
    argv: tuple[str, ...]


class ProcfileError(ValueError):
    """The Procfile's workers are not one per queue of ``QUEUES``."""


def procfile_commands(text: str) -> dict[str, list[str]]:
    """The Procfile's processes: name -> the command's words, in the file's order."""
    commands: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        commands[name.strip()] = command.split()
    return commands


def worker_queues(commands: dict[str, list[str]]) -> list[str]:
    """The queue of each ``amazon-channel worker <queue>`` process, in order."""
    return [
        argv[2]
        for argv in commands.values()
        if argv[:2] == ["amazon-channel", "worker"] and len(argv) > 2
    ]


def procfile_processes(procfile: Path = PROCFILE) -> list[ProcessSpec]:
    """The Procfile's processes as argv lists (the Procfile's text is the single source), after
    checking that it starts one worker for each queue of the one list."""
    commands = procfile_commands(procfile.read_text())
    queues = worker_queues(commands)
    if sorted(queues) != sorted(QUEUES):
        raise ProcfileError(f"{procfile}: workers for {queues}, but the queues are {QUEUES}")
    specs: list[ProcessSpec] = []
    for name, argv in commands.items():
        if argv and argv[0] == "amazon-channel":
            argv = [sys.executable, "-m", "workers.cli", *argv[1:]]
        specs.append(ProcessSpec(name, tuple(argv)))
    return specs


@contextlib.contextmanager
def services(settings: Settings) -> Iterator[Settings]:
    """Settings whose URLs all point at running servers, embedded ones started if needed."""
    embedded = EmbeddedServices(settings.data_dir)
    urls = embedded.start(settings.database_url, settings.redis_url, settings.broker_url)
    try:
        yield settings.model_copy(
            update={
                "database_url": urls.database_url,
                "redis_url": urls.redis_url,
                "broker_url": urls.broker_url,
            }
        )
    finally:
        embedded.stop()


@dataclass
class Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0


class Supervisor:
    def __init__(self, specs: list[ProcessSpec], env: dict[str, str]) -> None:
        self.children = [Child(spec) for spec in specs]
        self.env = env
        self.stopping = False

    def _start(self, child: Child) -> None:
        log.info("starting %s", child.spec.name)
        child.process = subprocess.Popen(child.spec.argv, env=self.env, start_new_session=True)

    def run(self) -> int:
        def request_stop(signum: int, _frame: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        for child in self.children:
            self._start(child)
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                process = child.process
                if process is not None and process.poll() is not None:
                    child.restarts += 1
                    delay = min(30.0, 2.0**child.restarts)
                    log.warning(
                        "%s exited with %s; restarting in %.0fs",
                        child.spec.name,
                        process.returncode,
                        delay,
                    )
                    child.process = None
                    child.next_start = now + delay
                if child.process is None and now >= child.next_start:
                    self._start(child)
            time.sleep(0.5)
        self.stop()
        return 0

    def stop(self) -> None:
        log.info("stopping %d processes", len(self.children))
        for child in self.children:
            if child.process is not None and child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", child.spec.name)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait(timeout=5)


def child_environment(ready: Settings, **extra: str) -> dict[str, str]:
    """The children's environment: this one, with the URLs of the servers that are running
    (embedded ones included) and ``extra``. Handed to each child; ours stays as it was."""
    return {
        **os.environ,
        "DATABASE_URL": ready.database_url,
        "REDIS_URL": ready.redis_url,
        "BROKER_URL": ready.broker_url,
        **extra,
    }


def run_all(settings: Settings | None = None) -> int:
    settings = settings or load_settings()
    with services(settings) as ready:
        migrate.upgrade(ready.database_url)
        specs = procfile_processes()
        extra: dict[str, str] = {}
        if ready.uses_sandbox():
            from workers.bootstrap import Container
            from workers.demo import ensure_demo_account

            if not ready.api_token_list():
                # A token for trying the API against the sandbox; production sets API_TOKENS.
                extra["API_TOKENS"] = DEMO_API_TOKEN
                log.info("API token for this demo run: %s", DEMO_API_TOKEN)
            setup = Container(ready)
            try:
                ensure_demo_account(setup.sessions)
            finally:
                setup.close()
            specs.insert(
                0,
                ProcessSpec(
                    "sandbox",
                    (
                        sys.executable,
                        "-m",
                        "workers.cli",
                        "sandbox",
                        "--demo-orders-per-minute",
                        str(ready.demo_orders_per_minute),
                    ),
                ),
            )
        log.info(
            "web on http://%s:%d, Flower on http://127.0.0.1:%d",
            ready.web_host,
            ready.web_port,
            ready.flower_port,
        )
        return Supervisor(specs, child_environment(ready, **extra)).run()
