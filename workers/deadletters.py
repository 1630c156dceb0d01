"""Dead letters: what a worker cannot process is recorded with its reason (``infra.db.failures``),
never dropped, and can be sent again after a fix.

Where each kind is caught:

- malformed (a body that is not JSON, not a task's shape, a content type we do not accept) and
  unknown task names: Celery's consumer, in the worker's main process, logs these and acks them
  (celery/worker/consumer/consumer.py ``on_decode_error``, ``on_unknown_message``,
  ``on_invalid_task``, ``on_unknown_task``): gone, and the whole body in the log.
  ``DeadLetterConsumer`` (``worker_consumer`` in ``workers.config``) records them instead.
- permanent errors: ``ChannelTask.on_failure`` (``workers.base``), called once the base class's
  retry policy has given up or never retried.
- a message that kills its worker: ``task_acks_late`` + ``task_reject_on_worker_lost`` requeue
  a message whose pool child died (celery/worker/request.py ``on_failure``: ``requeue=True``,
  with no limit), so a task that segfaults, runs out of memory or calls ``os._exit`` is
  delivered again for ever. ``ChannelTask.__call__`` counts the deliveries of each (task id,
  retry) in Redis before running it and forgets the count when the run ends in any way a
  process survives; a count past ``MAX_DELIVERIES`` means the earlier runs died with their
  process, and the message is recorded and acked instead of run again.

Recording never stops a worker: when the store cannot take a letter, the message is logged
whole (what Celery did before) and the worker goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
from celery import signals
from celery.worker.consumer import Consumer

from infra.db.failures import DeadLetterView, Letter, SqlFailures
from workers import bootstrap
from workers.app import app
from workers.delayed import consumer_steps
from workers.queues import QUEUES
from workers.schedule import HOUSEKEEPING

log = logging.getLogger(__name__)

# A message whose worker died on this many deliveries in a row is not delivered again: more
# than the fault runs' three SIGKILLs of a whole worker (tests/faults), which may each catch
# the same message in flight; a message that kills every pool child reaches it in seconds.
MAX_DELIVERIES = 5
# Long enough for every redelivery (a whole dead worker's message comes back after the broker's
# visibility timeout, 900 s); short enough that counts of finished runs never pile up.
COUNT_TTL_S = 24 * 3600
_COUNT_KEY = "amazon-channel:deliveries:{task_id}:{retries}"


def failures() -> SqlFailures:
    return SqlFailures(bootstrap.container().engine)


def keep(letter: Letter) -> int | None:
    """Record ``letter``; its id, or None when the store could not take it (logged whole)."""
    try:
        letter_id = failures().record(letter)
    except Exception:  # the worker goes on: the message is in the log instead
        log.exception("could not record a dead letter: %r", letter)
        return None
    log.error(
        "dead letter %d: %s (%s: %s)",
        letter_id,
        letter.reason,
        letter.error_type,
        letter.error_message,
        extra={"task": letter.task_name, "task_id": letter.task_id, "reason": letter.reason},
    )
    return letter_id


# --- deliveries of a task (a worker killed by its message) ------------------------------------


def count_delivery(task_id: str, retries: int) -> int | None:
    """This delivery's number for (task id, retry); None when Redis cannot count (the task
    runs uncounted rather than not at all)."""
    key = _COUNT_KEY.format(task_id=task_id, retries=retries)
    try:
        pipe = bootstrap.container().redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, COUNT_TTL_S)
        count, _ = pipe.execute()
    except redis.RedisError as exc:
        log.warning("cannot count deliveries of task %s: %s", task_id, exc)
        return None
    return int(count)


def forget_deliveries(task_id: str, retries: int) -> None:
    """The run ended with its process alive: nothing to count."""
    try:
        bootstrap.container().redis.delete(_COUNT_KEY.format(task_id=task_id, retries=retries))
    except redis.RedisError as exc:  # the count expires on its own
        log.warning("cannot forget deliveries of task %s: %s", task_id, exc)


def worker_lost(request: Any, count: int) -> Letter:
    return Letter(
        message_key=str(request.id),
        reason="worker_lost",
        task_name=request.task,
        task_id=request.id,
        queue=_queue(request.delivery_info),
        args=list(request.args or ()),
        kwargs=dict(request.kwargs or {}),
        error_type="WorkerLostError",
        error_message=f"its worker died on each of {count - 1} deliveries; not run again",
        deliveries=count,
    )


def failed_task(request: Any, exc: BaseException, args: Any, kwargs: Any) -> Letter:
    """A task that failed for good. A housekeeping tick (beat sends one every few seconds, each
    under a new task id) is filed under its name, arguments and error, so a tick that keeps
    failing is one letter seen again and again, not a row per tick."""
    key = str(request.id)
    if request.task in HOUSEKEEPING:
        said = json.dumps([request.task, args, kwargs, type(exc).__name__], default=str)
        key = "tick:" + hashlib.sha256(said.encode("utf-8", "replace")).hexdigest()
    return Letter(
        message_key=key,
        reason="permanent_error",
        task_name=request.task,
        task_id=request.id,
        queue=_queue(request.delivery_info),
        args=list(args or ()),
        kwargs=dict(kwargs or {}),
        error_type=type(exc).__name__,
        error_message=str(exc),
        deliveries=1 + int(request.retries or 0),
    )


# --- messages the consumer could not hand to a task ---------------------------------------------


def from_message(message: Any, reason: str, exc: BaseException | None) -> Letter:
    """What a broker message says of itself, however broken: its headers when it has them, its
    arguments when its body is a task's, else its body as text."""
    headers = message.headers if isinstance(message.headers, Mapping) else {}
    raw = message.body
    raw_bytes = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogatepass")
    task_id = headers.get("id")
    args, kwargs, body = _task_arguments(raw_bytes)
    return Letter(
        message_key=str(task_id) if task_id else "sha256:" + hashlib.sha256(raw_bytes).hexdigest(),
        reason=reason,
        task_name=_text(headers.get("task")),
        task_id=_text(task_id),
        queue=_queue(message.delivery_info),
        args=args,
        kwargs=kwargs,
        body=body,
        error_type=None if exc is None else type(exc).__name__,
        error_message=_said(reason, exc),
    )


def _task_arguments(raw: bytes) -> tuple[Any, Any, str | None]:
    """(args, kwargs, None) for a body of Celery's task shape ``[args, kwargs, embed]``, else
    (None, None, the body as text)."""
    try:
        decoded = json.loads(raw)
    except ValueError:
        return None, None, raw.decode("utf-8", "replace")
    if (
        isinstance(decoded, list)
        and len(decoded) == 3
        and isinstance(decoded[0], list)
        and isinstance(decoded[1], dict)
    ):
        return decoded[0], decoded[1], None
    return None, None, raw.decode("utf-8", "replace")


def _said(reason: str, exc: BaseException | None) -> str:
    if exc is not None:
        return str(exc) or type(exc).__name__
    if reason == "malformed":
        return "not a task message (no task name in its headers or body)"
    return reason


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _queue(delivery_info: Any) -> str | None:
    if isinstance(delivery_info, Mapping):
        found = delivery_info.get("routing_key") or delivery_info.get("exchange")
        return None if found is None else str(found)
    return None


# What reading a body of another shape raises (a connection error is none of these).
_SHAPE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)


class DeadLetterConsumer(Consumer):  # type: ignore[misc]
    """Celery's consumer, recording what it cannot hand to a task. Once recorded, the message
    is acked (or rejected) as Celery does, without Celery's dump of the whole message to the log
    (its arguments may hold buyer data or a token: the table keeps them, secrets taken out);
    when the store cannot take it, Celery's own handling logs it whole. On RabbitMQ its
    delayed delivery step declares every queue first (``workers.delayed``)."""

    class Blueprint(Consumer.Blueprint):  # type: ignore[misc]
        default_steps = consumer_steps(list(Consumer.Blueprint.default_steps))

    def _keep(self, letter: Letter) -> int | None:
        """``keep`` from the worker's main process, which forks new pool children at any time:
        no connection is left open for a child to inherit (dead letters here are rare)."""
        try:
            return keep(letter)
        finally:
            try:
                bootstrap.container().engine.dispose()
            except RuntimeError as exc:  # no database configured: nothing was open
                log.debug("no engine to dispose: %s", exc)

    def create_task_handler(self, *args: Any, **kwargs: Any) -> Any:
        """Celery's handler of a task message, and a body of JSON in another shape than a task's
        (``{"x": 1}`` under a task's headers) recorded instead of raised: Celery reads it in the
        consumer (``Request.__init__`` unpacks it) and its error stops the whole worker, and
        the message, never acked, comes back to stop the next one."""
        handle = super().create_task_handler(*args, **kwargs)

        def on_task_received(message: Any) -> Any:
            try:
                return handle(message)
            except _SHAPE_ERRORS as exc:
                if (
                    message.acknowledged
                    or self._keep(from_message(message, "malformed", exc)) is None
                ):
                    raise
                message.ack()
                return None

        return on_task_received

    def on_decode_error(self, message: Any, exc: BaseException) -> None:
        if self._keep(from_message(message, "malformed", exc)) is None:
            super().on_decode_error(message, exc)
            return
        message.ack()

    def on_unknown_message(self, body: Any, message: Any) -> None:
        if self._keep(from_message(message, "malformed", None)) is None:
            super().on_unknown_message(body, message)
            return
        self._drop(message, None)

    def on_invalid_task(self, body: Any, message: Any, exc: BaseException) -> None:
        if self._keep(from_message(message, "malformed", exc)) is None:
            super().on_invalid_task(body, message, exc)
            return
        self._drop(message, exc)

    def on_unknown_task(self, body: Any, message: Any, exc: BaseException) -> None:
        letter = from_message(message, "unknown_task", exc)
        if self._keep(letter) is None:
            super().on_unknown_task(body, message, exc)
            return
        message.reject_log_error(log, self.connection_errors)
        if self.event_dispatcher and letter.task_id:  # Flower shows it failed
            self.event_dispatcher.send(
                "task-failed",
                uuid=letter.task_id,
                exception=f"NotRegistered({letter.task_name!r})",
            )
        signals.task_unknown.send(
            sender=self, message=message, exc=exc, name=letter.task_name, id=letter.task_id
        )

    def _drop(self, message: Any, exc: BaseException | None) -> None:
        message.reject_log_error(log, self.connection_errors)
        signals.task_rejected.send(sender=self, message=message, exc=exc)


# --- retry and discard (the operator's) ---------------------------------------------------------


class CannotRetry(ValueError):
    """A dead letter that cannot be sent again (unknown, or nothing to send)."""


@dataclass(frozen=True)
class Retried:
    letter: DeadLetterView
    # The new task id; None: it was retried or discarded already, nothing sent.
    task_id: str | None


def retry(letter_id: int, *, sender: Any = None) -> Retried:
    """Send a waiting dead letter's task again: the same name and arguments under a new task
    id, through the task's own idempotent path. Safe twice: the row is marked retried before
    the send, and a letter that is not waiting sends nothing."""
    store = failures()
    letter = store.get(letter_id)
    if letter is None:
        raise CannotRetry(f"no failure {letter_id}")
    if letter.state != "waiting":
        return Retried(letter, None)
    if not letter.can_be_sent_again:
        raise CannotRetry(f"failure {letter_id}: {_why_not(letter)}; discard it")
    new_id = str(uuid.uuid4())
    if not store.claim_retry(letter_id, new_id):
        return Retried(store.get(letter_id) or letter, None)
    options: dict[str, Any] = {"task_id": new_id}
    if letter.queue in QUEUES:
        options["queue"] = letter.queue
    try:
        (sender or app).send_task(
            letter.task_name, args=letter.args or [], kwargs=letter.kwargs or {}, **options
        )
    except Exception:
        store.release_retry(letter_id, new_id)
        raise
    return Retried(store.get(letter_id) or letter, new_id)


def _why_not(letter: DeadLetterView) -> str:
    if letter.task_name is None or letter.body is not None:
        return "a message that is no task's: nothing to send again"
    return "its arguments held a secret that was not kept: send the task again by hand"


def discard(letter_id: int) -> DeadLetterView:
    store = failures()
    letter = store.get(letter_id)
    if letter is None:
        raise CannotRetry(f"no failure {letter_id}")
    store.discard(letter_id)
    return store.get(letter_id) or letter
