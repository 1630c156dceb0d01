"""What puts refund work on the ``refund`` queue: the platform's messages, and the batcher's flush.

The platform's producers, ``publish_refund`` and ``publish_cancellation``, send ``RefundMessage``
and ``CancellationMessage`` (their JSON Schemas: ``message_schema(kind)``) as task
``refund.intake`` on queue ``refund``; the message's ``type`` tells which::

    {
      "version": 1,
      "type": "refund.requested",
      "account": "acme-us",                  # seller account name, or its id
      "amazon_order_id": "113-1234567-1234567",
      "platform_refund_id": "R-1001",        # the store's id; unique per account
      "reason": "customer_return",           # or Amazon's AdjustmentReason (CustomerReturn)
      "currency": "USD",                     # optional; when given, the order's
      "lines": [
        {"order_item_id": "12345678901234",
         "amounts": {"item_price": "19.99", "tax": "1.60", "restocking_fee": "2.00"}},
        {"sku": "MUG-RED", "quantity": 1}    # amounts from what the order charged
      ]
    }

    {
      "version": 1,
      "type": "cancellation.requested",
      "account": "acme-us",
      "amazon_order_id": "113-1234567-1234567",
      "platform_cancellation_id": "C-1001",
      "reason": "buyer_canceled",            # or Amazon's CancelReason (BuyerCanceled)
      "lines": [{"sku": "MUG-RED", "quantity": 1}],   # empty or absent: the whole order
      "refund_amount": "21.59",              # optional: what the units charged, computed
      "currency": "USD"
    }

Amounts are best sent as decimal strings. A ``Decimal`` crosses the queue as one (kombu's JSON
keeps its text), and a float is read by its shortest spelling, which is the number its JSON
text held; never computed with.

After an accept the intake queues ``refund.flush`` (the batcher: pending refunds of the seller
into a feed). That is best effort on purpose: when the broker is away the periodic flush takes
the refund within minutes, so the platform's request never fails or hangs for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from kombu.exceptions import KombuError

from domain.refunds import CancelOrder, IssueRefund
from workers.base import shown_as
from workers.doors.fulfilments.queueing import TaskSender, default_sender
from workers.doors.refunds.fields import MESSAGE_VERSION
from workers.doors.refunds.reading import read_cancellation_message, read_refund_message
from workers.doors.refunds.request import CANCELLATION_TYPE, REFUND_TYPE

log = logging.getLogger(__name__)

QUEUE = "refund"
INTAKE_TASK = "refund.intake"  # one message of either kind: ``take_in_message``
FLUSH_TASK = "refund.flush"  # the batcher, queued after an accept: ``enqueue_flush``


def _publish(
    message: Mapping[str, Any],
    kind: str,
    read: Callable[[Any], IssueRefund | CancelOrder],
    app: TaskSender | None,
) -> str:
    full = {"version": MESSAGE_VERSION, "type": kind, **message}
    read(full)
    result = (app or default_sender()).send_task(
        INTAKE_TASK,
        args=[full],
        queue=QUEUE,
        routing_key=QUEUE,
        **shown_as(
            account=full.get("account"),
            order=full.get("amazon_order_id"),
            refund=full.get("platform_refund_id"),
            cancellation=full.get("platform_cancellation_id"),
        ),
    )
    return str(result.id)


def publish_refund(message: Mapping[str, Any], *, app: TaskSender | None = None) -> str:
    """The platform's producer: send a refund request to the channel; returns the task id.

    ``version`` and ``type`` are filled in when missing. The message is checked against
    ``RefundMessage`` here (``RefundRequestRefused`` names the fields), so a malformed one fails
    in the platform's code, not silently on the queue; the order is checked when the channel
    takes it in, and a refusal comes back as a ``refunds/failed`` event."""
    return _publish(message, REFUND_TYPE, read_refund_message, app)


def publish_cancellation(message: Mapping[str, Any], *, app: TaskSender | None = None) -> str:
    """``publish_refund`` for a cancellation (``CancellationMessage``; a refusal comes back as
    a ``cancellations/failed`` event)."""
    return _publish(message, CANCELLATION_TYPE, read_cancellation_message, app)


def enqueue_flush(account_id: int, *, app: TaskSender | None = None) -> bool:
    """Queue ``refund.flush`` for a seller account after an accept. Best effort (see the
    module): False when the broker could not take it now."""
    sender = app or default_sender()
    try:
        sender.send_task(
            FLUSH_TASK,
            args=[account_id],
            queue=QUEUE,
            routing_key=QUEUE,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
            **shown_as(account=account_id),
        )
    except KombuError as exc:
        log.warning(
            "refund flush not queued; the periodic flush takes it",
            extra={"account_id": account_id, "error": type(exc).__name__},
        )
        return False
    return True
