"""The fulfilment door that HTTP, the queue and the CLI share: ``FulfilmentRequest`` (the one
model of the request; ``FulfilmentMessage`` adds the queue's envelope), the intake that runs the
domain's use case, the listing, and the queueing of the platform's messages and of confirmations."""

from workers.doors.fulfilments.intake import (
    every_reason,
    fulfilment_store,
    queue_confirmation,
    retry_failed,
    submit_fulfilment,
    take_in,
    take_in_message,
)
from workers.doors.fulfilments.listing import Listing, Page, page, read_listing
from workers.doors.fulfilments.queueing import (
    CONFIRM_TASK,
    INTAKE_TASK,
    QUEUE,
    TaskSender,
    celery_priority,
    default_sender,
    enqueue_confirmation,
    publish_fulfilment,
)
from workers.doors.fulfilments.request import (
    MESSAGE_TYPE,
    MESSAGE_VERSION,
    FulfilmentLine,
    FulfilmentMessage,
    FulfilmentRequest,
    message_schema,
    read_message,
    read_request,
)

__all__ = [
    "CONFIRM_TASK",
    "INTAKE_TASK",
    "MESSAGE_TYPE",
    "MESSAGE_VERSION",
    "QUEUE",
    "FulfilmentLine",
    "FulfilmentMessage",
    "FulfilmentRequest",
    "Listing",
    "Page",
    "TaskSender",
    "celery_priority",
    "default_sender",
    "enqueue_confirmation",
    "every_reason",
    "fulfilment_store",
    "message_schema",
    "page",
    "publish_fulfilment",
    "queue_confirmation",
    "read_listing",
    "read_message",
    "read_request",
    "retry_failed",
    "submit_fulfilment",
    "take_in",
    "take_in_message",
]
