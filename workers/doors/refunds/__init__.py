"""The refund and cancellation door that HTTP, the queue and the CLI share: ``RefundRequest`` and
``CancellationRequest`` (one model of each request; ``RefundMessage`` and ``CancellationMessage``
add the queue's envelope), the intake that runs the domain's use cases, and the queueing of the
platform's messages and of the batcher's flush."""

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
    "RefundAmounts",
    "RefundLine",
    "RefundMessage",
    "RefundRequest",
    "RefundRequestRefused",
    "enqueue_flush",
    "kind_of",
    "message_schema",
    "publish_cancellation",
    "publish_refund",
    "read_cancellation",
    "read_cancellation_message",
    "read_message",
    "read_refund",
    "read_refund_message",
]
