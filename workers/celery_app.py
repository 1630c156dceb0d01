"""The Celery app: queues, reliability settings (each with its reason), the task base class.

The app object is created at import (Celery needs a module-level app for ``celery -A``), but it
holds no connection and reads no settings until Celery first asks for its configuration, which
``workers.celeryconfig`` builds from ``infra.settings`` inside the process that runs.

Reliability choices, from shared/RELIABILITY.md and Celery's / kombu's issue trackers:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: at-least-once. Without the second, a pool
  child killed mid-task is acked anyway and the task is lost (celery/worker/request.py on_failure).
  Every task is therefore safe to run twice; the store's unique keys make the repeat a no-op.
- ``worker_prefetch_multiplier = 1``: no hidden reservations; a killed worker strands one
  message, not a window of them, and urgent work is not stuck behind a prefetch.
- Redis ``visibility_timeout`` 900 s: longer than the hard time limit (300 s) plus the longest
  countdown we ever schedule (``MAX_COUNTDOWN_S``), so a message is never re-delivered while its
  first run is still alive (celery #5935, kombu #337: ETA > VT duplicates tasks). Longer waits go
  to PostgreSQL (``next_attempt_at``), not to the broker.
- ``unacked_restore_interval`` 5 s (kombu 5.7): a dead worker's messages come back in seconds, not
  the old fixed ~100 s sweep.
- ``task_acks_on_failure`` / ``task_acks_on_timeout``: a task that failed has recorded its
  failure in PostgreSQL; a broker requeue loop would only repeat it. Sweepers in beat re-drive
  what must be retried.
- JSON only: a pickled message from anyone on the broker would be code execution.
- ``task_ignore_result``: state lives in our tables; no result backend to lose or fill.
- Broker connection retried forever at start-up and publishes retried: a broker blip stalls work,
  it does not crash processes or drop messages.
- Beat is RedBeat: one active scheduler guarded by a Redis lock; periodic tasks are triggers and
  the tasks themselves take PostgreSQL advisory locks, so a duplicated tick is harmless.
- ``worker_send_task_events`` / ``task_send_sent_event``: Flower shows every task's life.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from celery import Celery, Task, signals

from workers.queues import MAX_COUNTDOWN_S, QUEUES

log = logging.getLogger(__name__)

app = Celery("amazon_channel")
# Imported by Celery the first time it needs its configuration, inside the running process.
app.config_from_object("workers.celeryconfig")


@signals.setup_logging.connect
def _setup_logging(**_kwargs: Any) -> None:
    from infra.logging import configure_logging
    from infra.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)


@signals.worker_process_init.connect
def _fresh_child(**_kwargs: Any) -> None:
    """A pool child must not use connections its parent opened before the fork."""
    from workers import compose

    compose.reset()


class TransientError(Exception):
    """Something that may work later (throttling, a lost connection): the task retries."""


class ChannelTask(Task):  # type: ignore[misc]
    """The one place that owns retries.

    Transient failures retry with exponential backoff and full jitter, capped so that no countdown
    exceeds ``MAX_COUNTDOWN_S`` (and so the broker's visibility timeout). Permanent failures are
    recorded by the use case itself and are not retried by the broker.
    """

    abstract = True
    max_retries = 8
    backoff_base_s = 2.0
    transient: tuple[type[BaseException], ...] = (TransientError,)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except self.transient_errors() as exc:
            countdown = min(
                MAX_COUNTDOWN_S, random.uniform(0, self.backoff_base_s * 2**self.request.retries)
            )
            log.warning(
                "task %s failed transiently (%s); retry %d in %.1fs",
                self.name,
                type(exc).__name__,
                self.request.retries + 1,
                countdown,
            )
            raise self.retry(exc=exc, countdown=countdown) from exc

    @classmethod
    def transient_errors(cls) -> tuple[type[BaseException], ...]:
        from workers.compose import transient_errors

        return (*cls.transient, *transient_errors())


P = ParamSpec("P")
R = TypeVar("R")


def channel_task(name: str) -> Callable[[Callable[P, R]], Any]:
    """Register a task with an explicit, stable name; its queue is the name's first part."""
    queue = name.split(".", 1)[0]
    if queue not in QUEUES:
        raise ValueError(f"task {name!r} must start with one of the queues {QUEUES}")

    def register(fn: Callable[P, R]) -> Any:
        return app.task(name=name, base=ChannelTask, bind=False, queue=queue)(fn)

    return register
