"""The process manager of ``amazon-channel run``: the Procfile's processes as children.

``workers.system`` starts the servers and hands this the processes. A child that dies is
restarted with a back-off, as a process manager would. The workers of ``LAZY_QUEUES`` start only
once their queue first holds work (a refund or payout worker is two idle processes for a store
that sells and ships). Ctrl-C (SIGINT) or SIGTERM stops the children with Celery's warm
shutdown (``Supervisor``), then ``workers.system`` stops the servers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.embedded import set_parent_death_signal
from infra.settings import Settings
from workers.queues import QUEUES

log = logging.getLogger(__name__)

GRACE_S = 35.0  # longer than the workers' soft shutdown (30 s)
PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"
# Workers started when their queue first has work, then kept.
LAZY_QUEUES: frozenset[str] = frozenset({"refund", "payout", "notifications"})
LOOP_S = 0.5
PROBE_INTERVAL_S = 2.0


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    name: str
    argv: tuple[str, ...]
    queue: str | None = None  # a worker's queue
    lazy: bool = False  # started once its queue has work


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
        queue = argv[2] if argv[:2] == ["amazon-channel", "worker"] and len(argv) > 2 else None
        if argv and argv[0] == "amazon-channel":
            argv = [sys.executable, "-m", "workers.cli", *argv[1:]]
        specs.append(ProcessSpec(name, tuple(argv), queue=queue, lazy=queue in LAZY_QUEUES))
    return specs


@dataclass
class Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    wanted: bool = True  # a lazy worker is not, until its queue first has work


def should_start_lazy(child: Child, has_work: Callable[[str], bool]) -> bool:
    """A lazy worker not yet started whose queue now has work (then it stays, restarted if it
    dies, like the others)."""
    queue = child.spec.queue
    return not child.wanted and queue is not None and has_work(queue)


# A child's exit status for "refused": a setting or a kept state it cannot start with (the CLI's
# one-line ``error:``). Restarting it cannot help, so the run stops with the same status.
REFUSED_EXIT = 2


class Supervisor:
    """Starts the children, restarts the ones that die, and stops them all on SIGINT/SIGTERM.

    ``has_work(queue)`` is asked every ``PROBE_INTERVAL_S`` for each lazy worker not started
    yet; ``is_ready()`` every loop until it says yes, then ``on_ready()`` runs once.

    Stopping is Celery's warm shutdown: SIGTERM to each child's main process only (a worker
    then finishes the tasks it is running, its pool children included), a grace period, and
    SIGKILL to the child's whole process group for whatever is still alive after it. A second
    signal while stopping cuts the grace period short. The children run in sessions of their
    own (``start_new_session``), so the terminal's Ctrl-C reaches this process alone and the
    order above is the only one they get.
    """

    def __init__(
        self,
        specs: list[ProcessSpec],
        env: dict[str, str],
        *,
        has_work: Callable[[str], bool] | None = None,
        is_ready: Callable[[], bool] | None = None,
        on_ready: Callable[[], None] | None = None,
        grace_s: float = GRACE_S,
    ) -> None:
        self.children = [Child(spec, wanted=not spec.lazy) for spec in specs]
        self.env = env
        self.has_work = has_work or (lambda _queue: True)
        self.is_ready = is_ready
        self.on_ready = on_ready
        self.grace_s = grace_s
        self.stopping = False
        self.signals = 0
        self.exit_code = 0

    def _start(self, child: Child) -> None:
        log.debug("starting %s", child.spec.name)
        env = {**self.env, "PROCESS_NAME": child.spec.name}
        # A session of its own: the terminal's Ctrl-C reaches the supervisor only. A parent-death
        # signal: a supervisor killed with SIGKILL leaves no worker behind (each gets the SIGTERM
        # of a warm shutdown).
        child.process = subprocess.Popen(
            child.spec.argv,
            env=env,
            start_new_session=True,
            preexec_fn=set_parent_death_signal,  # one thread: the supervisor forks nowhere else
        )

    def _request_stop(self, signum: int, _frame: object) -> None:
        self.stopping = True
        self.signals += 1

    def run(self) -> int:
        previous = {
            signum: signal.signal(signum, self._request_stop)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            return self._supervise()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _supervise(self) -> int:
        ready = self.is_ready is None
        next_probe = 0.0
        while not self.stopping:
            now = time.monotonic()
            self._restart_the_dead(now)
            if now >= next_probe:
                next_probe = now + PROBE_INTERVAL_S
                self._start_lazy_with_work()
            if not ready and self.is_ready is not None and self.is_ready():
                ready = True
                if self.on_ready is not None:
                    self.on_ready()
            if not self.stopping:
                time.sleep(LOOP_S)
        self.stop()
        return self.exit_code

    def _restart_the_dead(self, now: float) -> None:
        for child in self.children:
            if not child.wanted or self.stopping:
                continue
            process = child.process
            if process is not None and process.poll() is not None:
                if process.returncode == REFUSED_EXIT:
                    # It said why on its own line; starting it again would say it again.
                    log.error(
                        "%s refused to start (exit %d, its reason above); stopping everything",
                        child.spec.name,
                        REFUSED_EXIT,
                    )
                    child.process = None
                    self.stopping = True
                    self.exit_code = REFUSED_EXIT
                    return
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

    def _start_lazy_with_work(self) -> None:
        for child in self.children:
            if not self.stopping and should_start_lazy(child, self.has_work):
                log.info("%s has work: starting its worker", child.spec.queue)
                child.wanted = True
                self._start(child)

    def _running(self) -> list[Child]:
        return [c for c in self.children if c.process is not None and c.process.poll() is None]

    def stop(self) -> None:
        running = self._running()
        log.info("stopping %d processes (running tasks finish first)", len(running))
        self.signals = 0
        for child in running:
            assert child.process is not None
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)  # the main process only
        deadline = time.monotonic() + self.grace_s
        while self._running() and time.monotonic() < deadline and self.signals == 0:
            time.sleep(0.1)
        for child in self._running():
            assert child.process is not None
            log.warning("%s did not stop in time; killing it", child.spec.name)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait(timeout=5)
        for child in self.children:
            if child.process is not None:
                child.process.wait(timeout=5)  # reaped: no zombie left behind


def child_environment(ready: Settings, **extra: str) -> dict[str, str]:
    """The children's environment: this one, with the URLs of the servers that are running
    (embedded ones included) and ``extra``. Handed to each child; ours stays as it was."""
    return {
        **os.environ,
        "DATABASE_URL": ready.database_url,
        "REDIS_URL": ready.redis_url,
        "BROKER_URL": ready.broker_url,
        # The folder this run resolved: a child finds the same one whatever its working folder.
        "DATA_DIR": str(ready.data_dir),
        # The notifications queue (the embedded SQS's when none was given).
        "SQS_QUEUE_URL": ready.sqs_queue_url,
        "SQS_ENDPOINT_URL": ready.sqs_endpoint_url,
        **extra,
    }
