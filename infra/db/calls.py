"""The store's record of SP-API calls per order, written by the transport's observer hook
(``infra.amazon.observed``) and read by ``orders timeline``.

A call names its orders itself (``getOrder``, ``getOrderItems``, ``confirmShipment``, Finances
by order: the ``orderId`` in its path); a feed's calls name none, so the task that moves a feed
on says which orders its messages carry (``about_orders``), and each of those calls is recorded
for all of them.

Cheap and never in the way: one INSERT after the attempt, outside the request, on a small pool
of its own (``record_engine``: autocommit, one round trip); a write that fails is logged at
WARNING and the call goes on. Bounded: every
``PRUNE_EVERY``-th write of a process (and its first) deletes the records older than the
retention (``SPAPI_CALL_RETENTION_DAYS``, default 14 days; 0 records nothing).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from infra.db.engine import DEAD_PEER_ARGS, sqlalchemy_url
from infra.db.tables import Refund, SpApiCall

log = logging.getLogger(__name__)

PRUNE_EVERY = 1000
_ERROR_CHARS = 2000

_about: ContextVar[tuple[str, ...]] = ContextVar("spapi_calls_about", default=())


@contextlib.contextmanager
def about_orders(amazon_order_ids: Iterable[str]) -> Iterator[None]:
    """The calls made inside are for these orders (a feed's messages), unless a call names
    its own order."""
    token = _about.set(tuple(dict.fromkeys(amazon_order_ids)))
    try:
        yield
    finally:
        _about.reset(token)


def record_engine(database_url: str) -> Engine:
    """The recorder's own small pool, so that a record costs one round trip: autocommit (no
    BEGIN and COMMIT), no ping at checkout (a dead connection fails one record, which is
    logged, and is replaced), commits that do not wait for the disk (a diagnostic record: a
    database crash may lose the last few), and a short statement timeout."""
    engine = create_engine(
        sqlalchemy_url(database_url),
        pool_size=2,
        max_overflow=2,
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",
        connect_args={
            "application_name": "amazon-channel-calls",
            **DEAD_PEER_ARGS,
            "connect_timeout": 2,
        },
    )

    @event.listens_for(engine, "connect")
    def _session_defaults(dbapi_conn: object, _record: object) -> None:
        with dbapi_conn.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("SET statement_timeout = '5s'")
            cur.execute("SET synchronous_commit = off")
        dbapi_conn.commit()  # type: ignore[attr-defined]

    return engine


class Attempt(Protocol):
    """What ``infra.amazon.observed.CallAttempt`` carries (the store does not import Amazon's
    package: the adapters are independent)."""

    @property
    def operation(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def order_ids(self) -> tuple[str, ...]: ...
    @property
    def attempt(self) -> int: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def elapsed_ms(self) -> float: ...
    @property
    def status(self) -> int | None: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


TaskOf = Callable[[], tuple[str | None, str | None]]


def _no_task() -> tuple[str | None, str | None]:
    return None, None


class CallRecorder:
    """The observer for one account's transport: records the attempts that name an order."""

    _writes = itertools.count()  # per process: every PRUNE_EVERY-th write prunes
    _lock = threading.Lock()

    def __init__(
        self,
        engine: Engine,
        account_id: int,
        *,
        retention_days: int,
        task_of: TaskOf = _no_task,
    ) -> None:
        self.engine = engine
        self.account_id = account_id
        self.retention = timedelta(days=retention_days)
        self.task_of = task_of

    def __call__(self, attempt: Attempt) -> None:
        order_ids = attempt.order_ids or _about.get()
        if not order_ids:
            return
        task_name, task_id = self.task_of()
        with self._lock:
            prune = next(self._writes) % PRUNE_EVERY == 0
        row = {
            "account_id": self.account_id,
            "amazon_order_ids": [o[:40] for o in order_ids],
            "operation": attempt.operation[:80],
            "method": attempt.method[:10],
            "attempt": attempt.attempt,
            "status": attempt.status,
            "request_id": (attempt.request_id or None) and attempt.request_id[:100],
            "error_code": (attempt.error_code or None) and attempt.error_code[:100],
            "error": (attempt.error or None) and attempt.error[:_ERROR_CHARS],
            "elapsed_ms": round(attempt.elapsed_ms),
            "task_name": task_name and task_name[:200],
            "task_id": task_id and task_id[:200],
            "called_at": attempt.started_at,
        }
        try:
            with self.engine.begin() as conn:  # on ``record_engine``: no BEGIN, no COMMIT
                conn.execute(insert(SpApiCall), row)
                if prune:
                    conn.execute(
                        delete(SpApiCall).where(SpApiCall.called_at < func.now() - self.retention)
                    )
        except SQLAlchemyError as exc:  # the record is lost, never the call
            log.warning(
                "spapi call not recorded",
                extra={"operation": attempt.operation, "error": type(exc).__name__},
            )


def prune_calls(engine: Engine, retention_days: int) -> int:
    """Delete the records older than ``retention_days``; how many went."""
    with engine.begin() as conn:
        result = conn.execute(
            delete(SpApiCall).where(
                SpApiCall.called_at < func.now() - timedelta(days=retention_days)
            )
        )
    return int(result.rowcount or 0)


def submission_orders(engine: Engine, submission_id: int) -> list[str]:
    """The Amazon orders the messages of a feed submission are for."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Refund.amazon_order_id)
            .where(Refund.submission_id == submission_id)
            .distinct()
            .order_by(Refund.amazon_order_id)
        )
        return [r[0] for r in rows]
