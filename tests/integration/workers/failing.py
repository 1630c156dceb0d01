"""Tasks that fail on purpose, on the project's own Celery app (test-only, like ``holding``): one
that raises a permanent error until its cause is fixed, one that finds its store out of reach
until then, one that kills its pool child. A worker
started with ``celery -A tests.integration.workers.failing`` knows them and every real task."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from sqlalchemy import text

from infra.db.engine import make_engine
from tests.integration.processes import WorkerProcess
from workers.app import app  # ``celery -A`` finds the app in this module
from workers.base import OUTAGE_HEADER, channel_task

FAIL_TASK = "events.fail_until_fixed"
OUTAGE_TASK = "events.store_out_until_fixed"
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


@channel_task(OUTAGE_TASK)
def store_out_until_fixed(folder: str, closed_port: int) -> str:
    """Note each run's retry and outage counts; until ``fixed``, reach for a PostgreSQL on a
    port nobody listens on (a real refused connection, an OperationalError)."""
    request = app.current_task.request
    with (Path(folder) / "outages").open("a") as notes:
        notes.write(f"{request.retries} {(request.headers or {}).get(OUTAGE_HEADER, 0)}\n")
    if not (Path(folder) / "fixed").exists():
        engine = make_engine(f"postgresql://postgres@127.0.0.1:{closed_port}/postgres")
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
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
