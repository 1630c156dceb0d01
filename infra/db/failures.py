"""Dead letters in the store: a message a worker could not process, recorded with its reason
so that nothing is lost, then retried (sent again) or discarded by an operator.

A dead letter's life::

    waiting --retry--> retried      (the same task and arguments sent again, a new task id)
       \\----discard--> discarded

What lands here is what nobody else recorded: a body that is not a task's (malformed), a task
name no worker knows, a task that failed permanently after the base class's retries
(``workers.base``), and a message that killed its worker on every delivery. A request refused
with its reasons is recorded by its own door (``rejected_fulfilments``, ``rejected_refunds``)
and a fulfilment or refund Amazon refused by its own store (state ``failed``): not here.

Secrets are never stored: a value under a key that names one (token, secret, password,
authorization...) is replaced by ``REDACTED``, and the row is marked ``redacted`` so it is not
sent again with the placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from infra.db.jsonb import storable, storable_text
from infra.db.tables import DeadLetter as Row

REASONS = ("malformed", "unknown_task", "permanent_error", "worker_lost")
STATES = ("waiting", "retried", "discarded")
REDACTED = "[redacted]"
MAX_BODY = 64 * 1024  # characters of a malformed body kept
MAX_MESSAGE = 4000  # characters of an error message kept
_SECRET_KEY = re.compile(r"token|secret|password|passwd|authorization|api_?key|credential", re.I)


@dataclass(frozen=True)
class Letter:
    """What a worker saw of a message it could not process."""

    message_key: str
    reason: str
    task_name: str | None = None
    task_id: str | None = None
    queue: str | None = None
    args: Any = None
    kwargs: Any = None
    body: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    deliveries: int = 1


@dataclass(frozen=True)
class DeadLetterView:
    id: int
    reason: str
    task_name: str | None
    task_id: str | None
    queue: str | None
    args: Any
    kwargs: Any
    redacted: bool
    body: str | None
    error_type: str | None
    error_message: str | None
    deliveries: int
    first_seen_at: datetime
    last_seen_at: datetime
    state: str
    resent_task_id: str | None
    resolved_at: datetime | None

    @property
    def can_be_sent_again(self) -> bool:
        """A task with its arguments as they came (not a body that was no task, nor arguments
        with a secret taken out)."""
        return self.task_name is not None and self.body is None and not self.redacted

    def as_dict(self) -> dict[str, Any]:
        return {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in self.__dict__.items()
        }


def redacted(value: Any) -> tuple[Any, bool]:
    """``value`` with every value under a key that names a secret replaced, and whether one
    was (recursively, through objects and lists)."""
    if isinstance(value, Mapping):
        found, changed = {}, False
        for key, item in value.items():
            if isinstance(key, str) and _SECRET_KEY.search(key):
                found[key], changed = REDACTED, True
            else:
                found[key], inner = redacted(item)
                changed = changed or inner
        return found, changed
    if isinstance(value, list | tuple):
        items = [redacted(item) for item in value]
        return [item for item, _ in items], any(inner for _, inner in items)
    return value, False


def _cut(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    text = storable_text(text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


class SqlFailures:
    """The dead-letter table. Each call is a transaction of its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, letter: Letter) -> int:
        """Keep ``letter``; the same message again (its key) updates its row: seen again, its
        latest error and delivery count, and waiting again if it was retried or discarded
        (what failed again is not lost). Returns the row's id."""
        args, args_redacted = redacted(letter.args)
        kwargs, kwargs_redacted = redacted(letter.kwargs)
        values = {
            "message_key": letter.message_key[:200],
            "reason": letter.reason,
            "task_name": _cut(letter.task_name, 200),
            "task_id": _cut(letter.task_id, 200),
            "queue": _cut(letter.queue, 40),
            "args": storable(args),
            "kwargs": storable(kwargs),
            "redacted": args_redacted or kwargs_redacted,
            "body": _cut(letter.body, MAX_BODY),
            "error_type": _cut(letter.error_type, 200),
            "error_message": _cut(letter.error_message, MAX_MESSAGE),
            "deliveries": letter.deliveries,
        }
        statement = pg_insert(Row).values(**values)
        upsert = statement.on_conflict_do_update(
            index_elements=[Row.message_key],
            set_={
                "reason": statement.excluded.reason,
                "error_type": statement.excluded.error_type,
                "error_message": statement.excluded.error_message,
                "deliveries": func.greatest(Row.deliveries + 1, statement.excluded.deliveries),
                "last_seen_at": func.now(),
                "state": "waiting",
                "resolved_at": None,
            },
        ).returning(Row.id)
        with self.engine.begin() as conn:
            return int(conn.execute(upsert).scalar_one())

    def listing(self, state: str | None = None, limit: int = 100) -> list[DeadLetterView]:
        """Dead letters, newest first (``state``: only those)."""
        query = select(Row).order_by(Row.id.desc()).limit(limit)
        if state is not None:
            query = query.where(Row.state == state)
        with self.engine.connect() as conn:
            return [_view(row) for row in conn.execute(query)]

    def get(self, letter_id: int) -> DeadLetterView | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(Row).where(Row.id == letter_id)).one_or_none()
        return None if row is None else _view(row)

    def waiting_by_reason(self) -> dict[str, int]:
        """How many dead letters wait, by reason (every reason, 0 when none): for a status
        screen, the metrics and the operator page."""
        query = select(Row.reason, func.count()).where(Row.state == "waiting").group_by(Row.reason)
        with self.engine.connect() as conn:
            found = {str(reason): int(n) for reason, n in conn.execute(query)}
        return {reason: found.get(reason, 0) for reason in REASONS}

    def claim_retry(self, letter_id: int, new_task_id: str) -> bool:
        """Mark a waiting dead letter retried under ``new_task_id``; False when it was not
        waiting (retried or discarded already: a second retry sends nothing)."""
        return self._resolve(letter_id, "retried", new_task_id)

    def release_retry(self, letter_id: int, new_task_id: str) -> None:
        """Back to waiting: the task could not be sent again after all."""
        with self.engine.begin() as conn:
            conn.execute(
                update(Row)
                .where(Row.id == letter_id, Row.resent_task_id == new_task_id)
                .values(state="waiting", resent_task_id=None, resolved_at=None)
            )

    def discard(self, letter_id: int) -> bool:
        """Mark a waiting dead letter discarded; False when it was not waiting."""
        return self._resolve(letter_id, "discarded", None)

    def _resolve(self, letter_id: int, state: str, new_task_id: str | None) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(Row)
                .where(Row.id == letter_id, Row.state == "waiting")
                .values(state=state, resent_task_id=new_task_id, resolved_at=func.now())
                .returning(Row.id)
            ).one_or_none()
        return done is not None


def _view(row: Any) -> DeadLetterView:
    return DeadLetterView(
        id=row.id,
        reason=row.reason,
        task_name=row.task_name,
        task_id=row.task_id,
        queue=row.queue,
        args=row.args,
        kwargs=row.kwargs,
        redacted=row.redacted,
        body=row.body,
        error_type=row.error_type,
        error_message=row.error_message,
        deliveries=row.deliveries,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        state=row.state,
        resent_task_id=row.resent_task_id,
        resolved_at=row.resolved_at,
    )
