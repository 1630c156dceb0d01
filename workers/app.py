"""The Celery app (``celery -A workers.app``) and why each of its reliability settings is set.

The app object is created at import (Celery needs a module-level app for ``celery -A``), but it
holds no connection and reads no settings until Celery first asks for its configuration, which
``workers.config`` builds from this process's container (``workers.bootstrap``).

Reliability choices, from Celery's and kombu's issue trackers and our own fault runs:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: at-least-once. Without the second, a pool
  child killed mid-task is acked anyway and the task is lost (celery/worker/request.py on_failure).
  Every task is therefore safe to run twice; the store's unique keys make the repeat a no-op.
- ``worker_prefetch_multiplier = 1``: no hidden reservations; a killed worker strands one
  message, not a window of them, and urgent work is not stuck behind a prefetch.
- RabbitMQ (``workers.config``): quorum queues (the fulfil queue a classic one, for its
  priorities), publisher confirms (a publish returns once the broker has the message), and
  Celery's native delayed delivery for countdowns (``workers.delayed``); an unacked message
  comes back the moment its consumer's connection closes, with no visibility timeout.
- Redis ``visibility_timeout`` 900 s: longer than the hard time limit (300 s) plus the longest
  countdown we ever schedule (``MAX_COUNTDOWN_S``), so a message is never re-delivered while its
  first run is still alive (celery #5935, kombu #337: ETA > VT duplicates tasks). Longer waits go
  to PostgreSQL (``next_attempt_at``), not to the broker.
- ``unacked_restore_interval`` 5 s (kombu 5.7): a dead worker's messages come back in seconds, not
  the old fixed ~100 s sweep.
- ``task_acks_on_failure`` / ``task_acks_on_timeout``: a task that failed has recorded its
  failure in PostgreSQL; a broker requeue loop would only repeat it. Sweepers in beat re-drive
  what must be retried.
- Retries belong to the task base class (``workers.base``), which decides transient or permanent.
- Routing by task name (``task_routes`` from the one queue list), never a per-task ``queue``.
- JSON only: a pickled message from anyone on the broker would be code execution.
- ``task_ignore_result``: state lives in our tables; no result backend to lose or fill.
- Broker connection retried forever at start-up and publishes retried: a broker blip stalls work,
  it does not crash processes or drop messages.
- Beat is RedBeat: one active scheduler guarded by a Redis lock; periodic tasks are triggers and
  the tasks themselves take PostgreSQL advisory locks, so a duplicated tick is harmless.
- ``worker_send_task_events`` / ``task_send_sent_event``: Flower shows every task's life.

Logging: one line per process at start (``--quiet`` drops Celery's banner; ``_announce_worker``
and ``_announce_beat`` say who is up), and housekeeping that found nothing at DEBUG
(``quiet_record``, ``workers.schedule.found_nothing``). Every line logged while a task runs
carries its id and name, and the account and Amazon order id its arguments name
(``_note_running``: bound in ``task_prerun``, cleared in ``task_postrun``); a task that finds
its order later binds it then (``infra.logging.bind_order``).
"""

from __future__ import annotations

import inspect
import logging
import os
import warnings
from collections.abc import Mapping
from typing import Any

from celery import Celery, signals
from celery.platforms import SecurityWarning

# Celery warns in ten lines per worker when it runs as root (a container's default user); one
# line of ours says the same (``_announce_worker``).
warnings.filterwarnings("ignore", category=SecurityWarning)

log = logging.getLogger(__name__)

app = Celery("amazon_channel")
# Imported by Celery the first time it needs its configuration, inside the running process.
app.config_from_object("workers.config")


@signals.setup_logging.connect
def _setup_logging(**_kwargs: Any) -> None:
    from infra.logging import configure_logging
    from workers import bootstrap

    settings = bootstrap.container().settings
    configure_logging(
        settings.log_level,
        settings.log_json,
        process=settings.process_name or "celery",
        quiet=quiet_record,
    )


@signals.worker_process_init.connect
def _fresh_child(**_kwargs: Any) -> None:
    """A pool child must not use connections its parent opened before the fork."""
    from workers import bootstrap

    bootstrap.reset()


# The id of the last housekeeping run that found nothing, in this pool child (a prefork child
# runs one task at a time, and Celery logs "succeeded" right after ``task_success``).
_found_nothing: dict[str, str | None] = {"task_id": None}
# The task this pool child is running (``task_prerun`` / ``task_postrun``).
_running: dict[str, str | None] = {"task": None}
_WORKER_START_LOGGERS = ("celery.worker.consumer.connection", "celery.worker.consumer.mingle")
_BEAT_START_MESSAGES = ("beat: Starting...", "beat: Acquired lock")


@signals.task_success.connect
def _note_idle_run(sender: Any = None, result: Any = None, **_kwargs: Any) -> None:
    from workers.schedule import found_nothing

    name = getattr(sender, "name", "")
    task_id = getattr(getattr(sender, "request", None), "id", None)
    _found_nothing["task_id"] = task_id if found_nothing(name, result) else None


def quiet_record(record: logging.LogRecord) -> bool:
    """Celery's lines that say nothing happened, logged at DEBUG: a housekeeping task received
    (it logs again if it did something), one that succeeded finding nothing, beat sending one,
    and the worker's start-up chatter (``_announce_worker`` says it is ready in one line)."""
    from workers.schedule import HOUSEKEEPING

    args = record.args
    if record.name in ("celery.worker.strategy", "celery.app.trace") and isinstance(args, dict):
        name = args.get("name")
        if record.name == "celery.worker.strategy":
            return name in HOUSEKEEPING
        return args.get("id") is not None and args.get("id") == _found_nothing["task_id"]
    if record.name == "celery.beat" and record.msg == "Scheduler: Sending due task %s (%s)":
        return isinstance(args, tuple) and len(args) == 2 and args[1] in HOUSEKEEPING
    if record.name == "celery.beat" and record.msg in _BEAT_START_MESSAGES:
        return True
    if record.name == "celery.apps.worker" and record.msg == "%s ready.":
        return True
    if record.name == "celery.worker.control" and record.msg == "sync with %s":
        return True  # a worker joined (mingle)
    if record.name == "infra.amazon.http" and record.msg == "spapi call":
        return _routine_call_of_housekeeping(record)
    return record.name in _WORKER_START_LOGGERS


def _routine_call_of_housekeeping(record: logging.LogRecord) -> bool:
    """A successful SP-API call made by a housekeeping task (a sync's ``searchOrders``): the
    task's own line says what it found. Throttles and errors keep their level."""
    from workers.schedule import HOUSEKEEPING

    status = getattr(record, "status", None)
    ok = isinstance(status, int) and status < 400 and getattr(record, "error", None) is None
    return ok and _running["task"] in HOUSEKEEPING


@signals.task_prerun.connect
def _note_running(
    sender: Any = None,
    task_id: str | None = None,
    args: Any = None,
    kwargs: Any = None,
    **_kwargs: Any,
) -> None:
    from infra.logging import bind_order, bind_task

    name = getattr(sender, "name", None)
    _running["task"] = name
    bind_task(task_id, name)
    bind_order(*task_subject(getattr(sender, "run", None), args or (), kwargs or {}))


@signals.task_postrun.connect
def _note_done(**_kwargs: Any) -> None:
    from infra.logging import unbind_task

    _running["task"] = None
    unbind_task()


# A reference longer than this is not an account name or an order id: not put on the lines.
_LONGEST_REFERENCE = 64


def task_subject(
    run: Any, args: Any, kwargs: Mapping[str, Any]
) -> tuple[int | str | None, str | None]:
    """The account and Amazon order id a task's arguments name: an ``account_id`` argument, or a
    platform's ``message`` (``account``, ``amazon_order_id``). Arguments that do not fit the
    task's signature (a malformed message) name nothing: the task refuses them itself."""
    try:
        bound = inspect.signature(run).bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return None, None
    message = bound.get("message")
    if isinstance(message, Mapping):
        order = _reference(message.get("amazon_order_id"))
        return _reference(message.get("account")), order if isinstance(order, str) else None
    account = bound.get("account_id")
    return (account if isinstance(account, int) else _reference(account)), None


def _reference(value: object) -> int | str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and 0 < len(value) <= _LONGEST_REFERENCE:
        return value
    return None


@signals.worker_init.connect
def _export_metrics(**_kwargs: Any) -> None:
    """The worker's SP-API calls and failures, for the web's /metrics (``workers.metrics``)."""
    from workers.metrics import start_worker_metrics

    start_worker_metrics()


@signals.worker_ready.connect
def _announce_worker(sender: Any = None, **_kwargs: Any) -> None:
    """One line for a worker that is up (the banner that lists every task is off: ``--quiet``).
    It keeps Celery's " ready." wording, which the tests' worker harness waits for."""
    controller = getattr(sender, "controller", None)
    queues = ",".join(sorted(q.name for q in app.amqp.queues.consume_from.values()))
    log.info(
        "worker %s ready. (concurrency %s, pid %d)",
        queues or "?",
        getattr(controller, "concurrency", "?"),
        os.getpid(),
    )
    if os.getuid() == 0:
        log.warning("worker %s runs as root: give it a user of its own in production", queues)


@signals.beat_init.connect
def _announce_beat(sender: Any = None, **_kwargs: Any) -> None:
    schedule = app.conf.beat_schedule or {}
    log.info("beat ready. (%d entries, pid %d)", len(schedule), os.getpid())
