"""What puts fulfilment work on the ``fulfil`` queue: the platform's message, and confirmations.

The platform's producer, ``publish_fulfilment``, sends ``FulfilmentMessage`` (its JSON Schema:
``message_schema()``) as task ``fulfil.intake`` on queue ``fulfil``::

    {
      "version": 1,                          # the message format; this channel reads 1
      "type": "fulfilment.requested",
      "account": "acme-us",                  # seller account name, or its id
      "amazon_order_id": "113-1234567-1234567",
      "platform_fulfilment_id": "F-1001",    # the store's id; unique per account
      "shipped_at": "2026-11-02T15:04:05+01:00",   # when the store shipped it, with its zone
      "carrier_code": "UPS",                 # Amazon's carrier code, or "Other" ...
      "carrier_name": null,                  # ... with the carrier's name
      "shipping_method": "Ground",           # optional
      "tracking_number": "1Z999AA10123456784",
      "lines": [{"order_item_id": "12345678901234", "quantity": 1},
                {"sku": "MUG-RED", "quantity": 2}],   # empty or absent: all that remains
      "cancellation_request_reviewed": false # true ships despite a buyer's request to cancel
    }

A confirmation is queued after the intake's commit as ``fulfil.confirm``, with a priority from
the order's ship-by date. That is best effort on purpose: if the broker is away, the sweeper
(``fulfil.sweep``) queues the fulfilment once ``SWEEP_AFTER`` (30 s) has passed, so it is still
confirmed within a minute, and the platform's request never fails for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from kombu.exceptions import KombuError

from domain.fulfilments import urgency
from infra.broker import is_amqp
from workers.base import shown_as
from workers.doors.fulfilments.request import MESSAGE_TYPE, MESSAGE_VERSION, read_message

log = logging.getLogger(__name__)

INTAKE_TASK = "fulfil.intake"
CONFIRM_TASK = "fulfil.confirm"
QUEUE = "fulfil"


class TaskSender(Protocol):
    """What a producer needs of a Celery app (tests pass a recording fake)."""

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> Any: ...


def default_sender() -> TaskSender:
    """The project's Celery app (imported when first needed: it is built at its import)."""
    from workers.app import app

    sender: TaskSender = app
    return sender


def publish_fulfilment(message: Mapping[str, Any], *, app: TaskSender | None = None) -> str:
    """The platform's producer: send a fulfilment request to the channel; returns the task id.

    ``version`` and ``type`` are filled in when missing. The message is checked against
    ``FulfilmentMessage`` here (``InvalidRequest`` names the fields), so a malformed one fails in
    the platform's code, not silently on the queue; the order is checked when the channel takes
    it in, and a refusal comes back as a ``fulfilments/failed`` event.
    """
    full = {"version": MESSAGE_VERSION, "type": MESSAGE_TYPE, **message}
    read_message(full)
    result = (app or default_sender()).send_task(
        INTAKE_TASK,
        args=[full],
        queue=QUEUE,
        routing_key=QUEUE,
        **shown_as(
            account=full.get("account"),
            order=full.get("amazon_order_id"),
            fulfilment=full.get("platform_fulfilment_id"),
        ),
    )
    return str(result.id)


def celery_priority(level: int, app: TaskSender) -> int:
    """Our urgency (0 most urgent .. 9) as the broker's priority. Redis serves its lowest
    number first (kombu's priority sub-queues); AMQP its highest (the queue then needs
    ``x-max-priority``)."""
    conf = getattr(app, "conf", None)
    broker = str(getattr(conf, "broker_url", "") or "")
    return 9 - level if is_amqp(broker) else level


def enqueue_confirmation(
    fulfilment_id: int,
    ship_by_latest: datetime | None,
    *,
    now: datetime,
    app: TaskSender | None = None,
    account: int | str | None = None,
    amazon_order_id: str | None = None,
) -> bool:
    """Queue ``fulfil.confirm`` for a stored fulfilment, the nearest ship-by first. Best effort
    (see the module): False when the broker could not take it now. ``account`` and
    ``amazon_order_id`` name the task in Flower."""
    sender = app or default_sender()
    try:
        sender.send_task(
            CONFIRM_TASK,
            args=[fulfilment_id],
            queue=QUEUE,
            routing_key=QUEUE,
            priority=celery_priority(urgency(ship_by_latest, now), sender),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
            **shown_as(account=account, order=amazon_order_id, fulfilment_id=fulfilment_id),
        )
    except KombuError as exc:
        log.warning(
            "confirmation not queued; the sweeper will send it",
            extra={"fulfilment_id": fulfilment_id, "error": type(exc).__name__},
        )
        return False
    return True
