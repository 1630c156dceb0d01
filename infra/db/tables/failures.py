"""Dead letters: the messages a worker could not process, kept with their reason until an
operator retries or discards them (``infra.db.failures``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from infra.db.tables.base import Base, UtcTime


class DeadLetter(Base):
    """One message that could not be processed. ``message_key`` is its task id, or a digest of
    its body when it has none: the same message delivered again is the same row."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    message_key: Mapped[str] = mapped_column(String(200), unique=True)
    # malformed, unknown_task, permanent_error, worker_lost
    reason: Mapped[str] = mapped_column(String(20))
    task_name: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(200))
    queue: Mapped[str | None] = mapped_column(String(40))
    args: Mapped[Any] = mapped_column(JSONB, nullable=True)
    kwargs: Mapped[Any] = mapped_column(JSONB, nullable=True)
    # Something was taken out of the arguments (a secret): they cannot be sent again as kept.
    redacted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # A body that is not a task's (not JSON, not our shape), as text, cut.
    body: Mapped[str | None] = mapped_column(Text)
    error_type: Mapped[str | None] = mapped_column(String(200))
    error_message: Mapped[str | None] = mapped_column(Text)
    deliveries: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    first_seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    # waiting, retried, discarded
    state: Mapped[str] = mapped_column(String(20), server_default=text("'waiting'"))
    resent_task_id: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcTime)
