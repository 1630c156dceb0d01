"""The refund and cancellation door that HTTP, the queue and the CLI share: ``RefundRequest`` and
``CancellationRequest`` (one model of each request; ``RefundMessage`` and ``CancellationMessage``
add the queue's envelope), the intake that runs the domain's use cases, and the queueing of the
platform's messages and of the batcher's flush."""

from workers.doors.refunds.intake import (
    RefundDoorStore,
    accept,
    every_reason,
    queue_flush,
    refund_store,
    retry_failed,
    submit_cancellation,
    submit_refund,
    take_in,
    take_in_message,
)
from workers.doors.refunds.listing import Listing, Page, page, read_listing
from workers.doors.refunds.queueing import (
    FLUSH_TASK,
    INTAKE_TASK,
    QUEUE,
    enqueue_flush,
    publish_cancellation,
    publish_refund,
)
from workers.doors.refunds.reading import (
    MESSAGE_TYPES,
    kind_of,
    message_schema,
    read_cancellation,
    read_cancellation_message,
    read_message,
    read_refund,
    read_refund_message,
)
from workers.doors.refunds.request import (
    CANCELLATION_TYPE,
    REFUND_TYPE,
    CancellationMessage,
    CancellationRequest,
    CancelLine,
    RefundAmounts,
    RefundLine,
    RefundMessage,
    RefundRequest,
    RefundRequestRefused,
)

__all__ = [
    "CANCELLATION_TYPE",
    "FLUSH_TASK",
    "INTAKE_TASK",
    "MESSAGE_TYPES",
    "QUEUE",
    "REFUND_TYPE",
    "CancelLine",
    "CancellationMessage",
    "CancellationRequest",
    "Listing",
    "Page",
    "RefundAmounts",
    "RefundDoorStore",
    "RefundLine",
    "RefundMessage",
    "RefundRequest",
    "RefundRequestRefused",
    "accept",
    "enqueue_flush",
    "every_reason",
    "kind_of",
    "message_schema",
    "page",
    "publish_cancellation",
    "publish_refund",
    "queue_flush",
    "read_cancellation",
    "read_cancellation_message",
    "read_listing",
    "read_message",
    "read_refund",
    "read_refund_message",
    "refund_store",
    "retry_failed",
    "submit_cancellation",
    "submit_refund",
    "take_in",
    "take_in_message",
]
