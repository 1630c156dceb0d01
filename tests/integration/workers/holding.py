"""A task that runs until the test lets it finish, on the project's own Celery app: what a worker
is doing when Ctrl-C arrives. ``python -m tests.integration.workers.holding`` runs
``amazon-channel run``'s code (``workers.system.run_all``) with one events worker that knows it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from workers.app import app  # noqa: F401 (``celery -A`` finds the app in this module)
from workers.base import channel_task
from workers.supervisor import ProcessSpec

HOLD_TASK = "events.hold"
LONGEST_HOLD_S = 120.0


@channel_task(HOLD_TASK)  # a task like the project's own, routed to events by its name
def hold(folder: str) -> str:
    """Say it started, wait for ``release`` to appear, say it finished."""
    here = Path(folder)
    (here / "started").touch()
    deadline = time.monotonic() + LONGEST_HOLD_S
    while not (here / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (here / "finished").touch()
    return "finished"


def worker_spec() -> ProcessSpec:
    argv = (
        sys.executable, "-m", "celery", "-A", "tests.integration.workers.holding", "--quiet",
        "worker", "-Q", "events", "-n", "events@%h", "-c", "1", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle",
    )  # fmt: skip
    return ProcessSpec("events", argv, queue="events")


if __name__ == "__main__":
    from workers.cli.common import settings
    from workers.system import run_all

    sys.exit(run_all(settings("run"), specs=[worker_spec()]))
