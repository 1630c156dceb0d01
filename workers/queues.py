"""The one list of queues, and the time limits the broker settings are derived from.

Everything that names a queue derives from ``QUEUES``: the CLI's ``worker`` choices, Celery's
task imports, queues and routes (``workers.config``), the task decorator (a task's name starts
with its queue), the supervisor's check of the Procfile; a test holds the Procfile and
docker-compose to it.
"""

from __future__ import annotations

QUEUES: tuple[str, ...] = ("ingest", "fulfil", "refund", "payout", "events", "notifications")
# The queues whose tasks are written (``workers.tasks.<queue>``); the others already have their
# worker in the Procfile, so adding their tasks changes no deployment.
WITH_TASKS: tuple[str, ...] = ("ingest", "fulfil", "refund", "payout", "events", "notifications")
assert set(WITH_TASKS) <= set(QUEUES)

HARD_TIME_LIMIT_S = 300
SOFT_TIME_LIMIT_S = 270
# No countdown (retry backoff, a throttle's wait) is longer than this; longer waits are rows in
# PostgreSQL (``next_attempt_at``) that a sweeper picks up.
MAX_COUNTDOWN_S = 300
# Longer than a task can live plus its longest countdown: no re-delivery while a run is alive.
VISIBILITY_TIMEOUT_S = 900
assert VISIBILITY_TIMEOUT_S > HARD_TIME_LIMIT_S + MAX_COUNTDOWN_S


class UnknownQueue(ValueError):
    """A name that is not one of ``QUEUES``."""


def queue_of(task_name: str) -> str:
    """The queue a task runs on: its name's first part (``"fulfil.confirm"`` -> ``"fulfil"``)."""
    queue = task_name.split(".", 1)[0]
    if queue not in QUEUES or "." not in task_name:
        raise UnknownQueue(
            f"task {task_name!r} must be named <queue>.<task>, queue one of {QUEUES}"
        )
    return queue


def task_modules() -> tuple[str, ...]:
    """Every queue's task module: a worker of one queue still knows the others' task names."""
    return tuple(f"workers.tasks.{queue}" for queue in WITH_TASKS)
