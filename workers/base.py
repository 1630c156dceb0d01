"""The task base class, the one owner of retries, and ``channel_task``, the one way to make a task.

Transient or permanent is decided here and nowhere else (tasks, the SP-API client and the stores
raise; they do not retry on the broker's behalf)::

    transient (retried)   OperationalError      lost connection, serialization failure, deadlock,
                                                a statement or lock timeout (SQLAlchemy's and
                                                psycopg's own, unwrapped)
                          redis ConnectionError / TimeoutError
                          httpx TransportError
                          AmazonTransientError  throttled, 5xx, unreachable (Throttled with
                                                ``retry_after_s``: a wait, see below)
                          TransientError        a task's own "try later" (with its wait, if known)
    permanent (failed)    IntegrityError, ProgrammingError, DataError (both libraries'): the
                          same statement fails the same way again; anything else not listed

Celery's own options carry the policy (``autoretry_for``, ``dont_autoretry_for``,
``retry_backoff``, ``retry_backoff_max``, ``retry_jitter``, ``max_retries``): a failure retries
after 2, 4, 8 ... seconds with full jitter, never longer than ``MAX_COUNTDOWN_S`` (the broker's
visibility timeout is longer than the hard time limit plus this), and gives up after
``max_retries``.

A store or Redis that cannot be reached (``is_outage``: a lost or refused connection, a server
shutting down or starting up; not a serialization failure or a deadlock) is not the task's
fault either: doubling up to minutes would keep a task with no sweeper behind it waiting long
after the outage ended. It comes back after 1-2, 2-4, 4-8, then 6-12 seconds (half the step
fixed, half jitter), never longer than ``OUTAGE_MAX_WAIT_S``, with the retry count unchanged;
its own budget, ``OUTAGE_MAX_RETRIES`` (10 to 20 minutes of outage), is counted in a header of
the message, and once spent the ordinary backoff and ``max_retries`` take over.

A throttle that says how long to wait (``retry_after_s``: our shared rate budget knows when its
next token is free) is not a failure: the task comes back after exactly that wait, logged at
INFO, and the wait does not count towards ``max_retries`` (a long sync at Amazon's real quotas
waits many times and makes progress each time). Celery counts every retry, so this one case
re-sends the task itself with the retry count unchanged.

What fails for good (a permanent error, the last retry spent) and a message that killed its
worker on every delivery become dead letters (``workers.deadletters``): ``on_failure`` and
``__call__`` below are the hooks.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import httpx
import psycopg
import redis
from celery import Task
from celery.exceptions import Ignore, Reject, Retry
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError

from infra.amazon.errors import AmazonTransientError, Throttled
from workers import deadletters
from workers.app import app
from workers.queues import MAX_COUNTDOWN_S, queue_of

log = logging.getLogger(__name__)


class TransientError(Exception):
    """A task's own "may work later" (Amazon unavailable for a fulfilment): the task retries,
    after ``retry_after_s`` when it is known, else with the base's backoff."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments do not survive the default exception pickling.
        return (_rebuild_transient, (str(self), self.retry_after_s))


def _rebuild_transient(message: str, retry_after_s: float | None) -> TransientError:
    return TransientError(message, retry_after_s=retry_after_s)


# psycopg's own classes beside SQLAlchemy's: the stores run some statements on the driver's
# connection itself (``infra.db.sql.compiled``, the outbox, COPY), whose errors come unwrapped.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    psycopg.OperationalError,
    redis.ConnectionError,
    redis.TimeoutError,
    httpx.TransportError,
    AmazonTransientError,
    TransientError,
)
# Subclasses of sqlalchemy's DBAPIError like OperationalError, but the same statement fails the
# same way again: listed so that no broader transient class added later can make them retry.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    IntegrityError,
    ProgrammingError,
    DataError,
    psycopg.IntegrityError,
    psycopg.ProgrammingError,
    psycopg.DataError,
)


def is_transient(exc: BaseException) -> bool:
    """What the base class retries (the same test as Celery's ``autoretry_for`` wrapper)."""
    return isinstance(exc, TRANSIENT_ERRORS) and not isinstance(exc, PERMANENT_ERRORS)


# The store's error classes that mean "not reachable now" (SQLSTATE): 08 connection exception,
# 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up). A driver
# error with no SQLSTATE at all is the connection's own (refused, reset, timed out, closed).
OUTAGE_SQLSTATE_CLASSES = ("08",)
OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
OUTAGE_MAX_WAIT_S = 12.0
OUTAGE_MAX_RETRIES = 100
# The message header that counts a task's outage retries (Celery keeps a task's headers on its
# retries, so it lasts the task's life).
OUTAGE_HEADER = "outage_retries"


def is_outage(exc: BaseException | None) -> bool:
    """A store or Redis connection failure (see above), retried soon and on its own budget."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return True
    if isinstance(exc, psycopg.OperationalError):  # the driver's own, unwrapped
        sqlstate = exc.sqlstate
    elif not isinstance(exc, OperationalError) or isinstance(exc, PERMANENT_ERRORS):
        return False
    elif exc.connection_invalidated:
        return True
    else:
        sqlstate = getattr(exc.orig, "sqlstate", None)
    if not isinstance(sqlstate, str):
        return True
    return sqlstate.startswith(OUTAGE_SQLSTATE_CLASSES) or sqlstate in OUTAGE_SQLSTATES


def outage_wait_s(outages: int) -> float:
    """The wait before outage retry ``outages + 1``: 2 s doubled each time, capped at
    ``OUTAGE_MAX_WAIT_S``, the second half of it jitter (no retry comes back at once)."""
    step = min(OUTAGE_MAX_WAIT_S, 2.0 * 2 ** min(outages, 16))
    return random.uniform(step / 2, step)


def outages_of(request: Any) -> int:
    headers = getattr(request, "headers", None) or {}
    try:
        return max(0, int(headers.get(OUTAGE_HEADER) or 0))
    except (TypeError, ValueError):
        return 0


def throttle_wait_s(exc: BaseException | None) -> float | None:
    """How long a throttled task waits before it runs again, when the throttle says; capped
    at ``MAX_COUNTDOWN_S`` (a longer wait comes round again). None: back off instead."""
    if isinstance(exc, Throttled | TransientError) and exc.retry_after_s is not None:
        return min(float(MAX_COUNTDOWN_S), max(0.0, exc.retry_after_s))
    return None


class ChannelTask(Task):  # type: ignore[misc]
    """Every task's class: the retry policy above, as Celery options plus ``retry``."""

    autoretry_for = TRANSIENT_ERRORS
    dont_autoretry_for = PERMANENT_ERRORS
    max_retries = 8
    retry_backoff = 2  # seconds before the first retry; doubled each time, then full jitter
    retry_backoff_max = MAX_COUNTDOWN_S
    retry_jitter = True

    def retry(
        self,
        args: Any = None,
        kwargs: Any = None,
        exc: BaseException | None = None,
        throw: bool = True,
        eta: Any = None,
        countdown: float | None = None,
        max_retries: int | None = None,
        **options: Any,
    ) -> Any:
        request = self.request
        wait = throttle_wait_s(exc)
        as_worker = not (request.called_directly or request.is_eager)
        if wait is not None and as_worker:
            self._come_back(exc, wait)
        outages = outages_of(request)
        if wait is None and as_worker and is_outage(exc) and outages < OUTAGE_MAX_RETRIES:
            self._come_back(exc, outage_wait_s(outages), outages=outages + 1)
        attempt = request.retries + 1
        limit = self.max_retries if max_retries is None else max_retries
        fields = {"task": self.name, "task_id": request.id, "error": type(exc).__name__}
        if limit is not None and attempt > limit:
            log.error("task gave up after %d retries: %s", limit, exc, extra=fields)
        else:
            level = logging.INFO if isinstance(exc, Throttled) else logging.WARNING
            log.log(
                level,
                "task failed transiently; retry %d of %s in %ss",
                attempt,
                limit,
                countdown if wait is None else wait,
                extra=fields,
            )
            if wait is not None:  # eager or called directly: Celery's own path, counted
                countdown = wait
        options = {**kept_repr(request), **options}
        return super().retry(args, kwargs, exc, throw, eta, countdown, max_retries, **options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task, counting its deliveries: one whose earlier runs all died with their
        process (``workers.deadletters``) is dead-lettered instead of killing another."""
        request = self.request
        if request.called_directly or request.is_eager or not request.id:
            return super().__call__(*args, **kwargs)
        retries = int(request.retries or 0)
        count = deadletters.count_delivery(request.id, retries)
        if count is not None and count > deadletters.MAX_DELIVERIES:
            deadletters.keep(deadletters.worker_lost(request, count))
            raise Ignore()  # acked, not run again
        try:
            return super().__call__(*args, **kwargs)
        finally:
            deadletters.forget_deliveries(request.id, retries)

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        """A permanent error, or a transient one after the last retry: a dead letter."""
        deadletters.keep(deadletters.failed_task(self.request, exc, args, kwargs))

    def _come_back(
        self, exc: BaseException | None, wait: float, *, outages: int | None = None
    ) -> None:
        """Send this task again in ``wait`` seconds with its retry count unchanged (a wait is
        not a failure; an outage retry counts in its own header), then tell the worker it was
        retried, as Celery's ``retry`` does."""
        request = self.request
        fields = {"task": self.name, "task_id": request.id, "wait_s": round(wait, 3)}
        options: dict[str, Any] = dict(kept_repr(request))
        if outages is None:
            log.info("task throttled; runs again in %.1fs", wait, extra=fields)
        else:
            log.warning(
                "store unreachable; task runs again in %.1fs (outage retry %d of %d)",
                wait,
                outages,
                OUTAGE_MAX_RETRIES,
                extra={**fields, "error": type(exc).__name__},
            )
            options["headers"] = {**(request.headers or {}), OUTAGE_HEADER: outages}
        # Keeps request.retries, and what Flower shows of the task.
        signature = self.signature_from_request(countdown=wait, **options)
        try:
            signature.apply_async()
        except Exception as send_error:  # as Celery's retry: the message cannot be re-sent
            raise Reject(send_error, requeue=False) from send_error
        raise Retry(exc=exc, when=wait, sig=signature)


def shown_as(**ids: object) -> dict[str, str]:
    """Celery's ``argsrepr``/``kwargsrepr`` options for a task being sent: what Flower (and
    Celery's own lines) show as its arguments, e.g. ``account=acme order=113-1234567-1234567``.
    Ids only, never the message: a fulfilment's body carries tracking numbers, a refund's
    amounts. ``None`` values are left out."""
    shown = " ".join(f"{name}={value}" for name, value in ids.items() if value is not None)
    return {"argsrepr": shown, "kwargsrepr": "{}"}


def kept_repr(request: Any) -> dict[str, str]:
    """The ``argsrepr``/``kwargsrepr`` a task was sent with, for its retry (Celery's own retry
    would show the raw arguments again)."""
    return {
        key: value
        for key in ("argsrepr", "kwargsrepr")
        if isinstance(value := getattr(request, key, None), str) and value
    }


P = ParamSpec("P")
R = TypeVar("R")


def channel_task(
    name: str, *, base: type[ChannelTask] = ChannelTask
) -> Callable[[Callable[P, R]], Any]:
    """Register a task under an explicit, stable name ``<queue>.<task>``. The queue is the
    name's first part and one of ``QUEUES``; ``task_routes`` send it there by name (Celery
    deprecates a per-task ``queue`` option). ``base`` is ``ChannelTask`` or a subclass that adds
    hooks, never another retry policy."""
    queue_of(name)  # refuses a name outside the one queue list, at import

    def register(fn: Callable[P, R]) -> Any:
        return app.task(name=name, base=base, bind=False)(fn)

    return register
