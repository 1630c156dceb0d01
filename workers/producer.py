"""The old path of the fulfilment door (``workers.doors.fulfilments``), kept for its callers."""

from __future__ import annotations

from typing import Any

from workers.doors.fulfilments import (
    CONFIRM_TASK,
    INTAKE_TASK,
    QUEUE,
    TaskSender,
    celery_priority,
    enqueue_confirmation,
    fulfilment_store,
    message_schema,
    publish_fulfilment,
    queue_confirmation,
    retry_failed,
    submit_fulfilment,
    take_in_message,
)

# The message's JSON Schema, generated from ``FulfilmentMessage``.
MESSAGE_SCHEMA: dict[str, Any] = message_schema()

__all__ = [
    "CONFIRM_TASK",
    "INTAKE_TASK",
    "MESSAGE_SCHEMA",
    "QUEUE",
    "TaskSender",
    "celery_priority",
    "enqueue_confirmation",
    "fulfilment_store",
    "publish_fulfilment",
    "queue_confirmation",
    "retry_failed",
    "submit_fulfilment",
    "take_in_message",
]
