"""Tasks that fail on purpose, on the project's own Celery app (test-only, like ``holding``): one
that raises a permanent error until its cause is fixed, one that kills its pool child. A worker
started with ``celery -A tests.integration.workers.failing`` knows them and every real task."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from tests.integration.processes import WorkerProcess
from workers.app import app  # noqa: F401 (``celery -A`` finds the app in this module)
from workers.base import channel_task

FAIL_TASK = "events.fail_until_fixed"
DIE_TASK = "events.die"


def runs(folder: str | Path) -> int:
    path = Path(folder) / "runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


def _count_run(folder: str) -> None:
    with (Path(folder) / "runs").open("a") as runs_file:
        runs_file.write("run\n")


@channel_task(FAIL_TASK)
def fail_until_fixed(folder: str) -> str:
    """Count the run; fail permanently (a ValueError is no transient error) until ``fixed``."""
    _count_run(folder)
    if not (Path(folder) / "fixed").exists():
        raise ValueError("the cause is not fixed yet")
    (Path(folder) / "succeeded").touch()
    return "succeeded"


@channel_task(DIE_TASK)
def die(folder: str) -> None:
    """Count the run, then end the pool child at once, as a segfault or an OOM kill would."""
    _count_run(folder)
    os._exit(9)


class FailingWorker(WorkerProcess):
    """A real events worker that also knows the tasks above."""

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "tests.integration.workers.failing",
                "worker", "-Q", "events", "-n", f"failing-{os.getpid()}-{time.monotonic_ns()}@%h",
                "-c", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
