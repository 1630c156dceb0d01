"""What puts fulfilment work on the ``fulfil`` queue: the platform's message, and confirmations.

The platform's producer, ``publish_fulfilment``, sends this JSON message (``MESSAGE_SCHEMA``) as
task ``fulfil.intake`` on queue ``fulfil``::

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

The HTTP API takes the same body without ``version`` and ``type``. Every door ends in
``domain.fulfilments.accept_fulfilment``; what it accepts is queued for confirmation here, after
the commit, as ``fulfil.confirm`` with a priority from the order's ship-by date. That queueing is
best effort on purpose: if the broker is away, the sweeper (``fulfil.sweep``) sends the
fulfilment within minutes, so the platform's request never fails or hangs for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from kombu.exceptions import KombuError

from domain.fulfilments import (
    MESSAGE_TYPE,
    MESSAGE_VERSION,
    Accepted,
    FieldError,
    InvalidRequest,
    Rejected,
    accept_fulfilment,
    accept_fulfilment_message,
    parse_request,
    retry_fulfilment,
    urgency,
)
from domain.shared import Clock
from infra.clock import SystemClock
from infra.db.fulfilments import SqlFulfilmentStore
from workers import compose

log = logging.getLogger(__name__)

INTAKE_TASK = "fulfil.intake"
CONFIRM_TASK = "fulfil.confirm"
QUEUE = "fulfil"

_LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "order_item_id": {"type": "string", "minLength": 1, "maxLength": 100},
        "sku": {"type": "string", "minLength": 1, "maxLength": 100},
        "quantity": {"type": "integer", "minimum": 1},
    },
    "required": ["quantity"],
    "oneOf": [{"required": ["order_item_id"]}, {"required": ["sku"]}],
}

# The request's fields (the HTTP body); the message adds "version" and "type".
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "account": {
            "description": "The seller account's name, or its id.",
            "oneOf": [{"type": "string", "minLength": 1, "maxLength": 100}, {"type": "integer"}],
        },
        "amazon_order_id": {"type": "string", "minLength": 1, "maxLength": 40},
        "platform_fulfilment_id": {
            "description": "The store's id of this fulfilment; unique per account.",
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
        },
        "shipped_at": {
            "description": "When the store shipped it: ISO 8601 with a zone. Sent to Amazon as "
            "the ship date (never the time of sending).",
            "type": "string",
            "format": "date-time",
        },
        "carrier_code": {
            "description": "Amazon's carrier code (UPS, USPS, FedEx, DHL, Royal Mail ...), or "
            "'Other' with carrier_name.",
            "type": "string",
            "minLength": 1,
            "maxLength": 60,
        },
        "carrier_name": {"type": ["string", "null"], "maxLength": 100},
        "shipping_method": {"type": ["string", "null"], "maxLength": 100},
        "tracking_number": {"type": "string", "minLength": 1, "maxLength": 100},
        "lines": {
            "description": "What the package holds; empty or absent: all that remains unshipped.",
            "type": ["array", "null"],
            "items": _LINE_SCHEMA,
        },
        "cancellation_request_reviewed": {
            "description": "True ships it although the buyer asked to cancel (after checking).",
            "type": "boolean",
            "default": False,
        },
    },
    "required": [
        "account",
        "amazon_order_id",
        "platform_fulfilment_id",
        "shipped_at",
        "carrier_code",
        "tracking_number",
    ],
}

MESSAGE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "fulfilment.requested, version 1",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"const": MESSAGE_VERSION},
        "type": {"const": MESSAGE_TYPE},
        **REQUEST_SCHEMA["properties"],
    },
    "required": ["version", "type", *REQUEST_SCHEMA["required"]],
}


class TaskSender(Protocol):
    """What a producer needs of a Celery app (tests pass a recording fake)."""

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> Any: ...


def _default_app() -> TaskSender:
    from workers.celery_app import app

    sender: TaskSender = app
    return sender


def publish_fulfilment(message: Mapping[str, Any], *, app: TaskSender | None = None) -> str:
    """The platform's producer: send a fulfilment request to the channel; returns the task id.

    ``version`` and ``type`` are filled in when missing. The message is checked for shape here
    (``InvalidRequest`` names the fields), so a malformed one fails in the platform's code, not
    silently on the queue; the order is checked when the channel takes it in, and a refusal
    comes back as a ``fulfilments/failed`` event.
    """
    full = {"version": MESSAGE_VERSION, "type": MESSAGE_TYPE, **message}
    errors = []
    if full["version"] != MESSAGE_VERSION:
        errors.append(FieldError("version", f"this channel reads version {MESSAGE_VERSION}"))
    if full["type"] != MESSAGE_TYPE:
        errors.append(FieldError("type", f"must be {MESSAGE_TYPE!r}"))
    try:
        parse_request({k: v for k, v in full.items() if k not in ("version", "type")})
    except InvalidRequest as exc:
        errors.extend(exc.errors)
    if errors:
        raise InvalidRequest(errors)
    result = (app or _default_app()).send_task(
        INTAKE_TASK, args=[full], queue=QUEUE, routing_key=QUEUE
    )
    return str(result.id)


def celery_priority(level: int, app: TaskSender) -> int:
    """Our urgency (0 most urgent .. 9) as the broker's priority. Redis serves its lowest
    number first (kombu's priority sub-queues); AMQP its highest (the queue then needs
    ``x-max-priority``)."""
    conf = getattr(app, "conf", None)
    broker = str(getattr(conf, "broker_url", "") or "")
    return 9 - level if broker.startswith(("amqp", "pyamqp")) else level


def enqueue_confirmation(
    fulfilment_id: int,
    ship_by_latest: datetime | None,
    *,
    now: datetime,
    app: TaskSender | None = None,
) -> bool:
    """Queue ``fulfil.confirm`` for a stored fulfilment, the nearest ship-by first. Best effort
    (see the module): False when the broker could not take it now."""
    sender = app or _default_app()
    try:
        sender.send_task(
            CONFIRM_TASK,
            args=[fulfilment_id],
            queue=QUEUE,
            routing_key=QUEUE,
            priority=celery_priority(urgency(ship_by_latest, now), sender),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        )
    except KombuError as exc:
        log.warning(
            "confirmation not queued; the sweeper will send it",
            extra={"fulfilment_id": fulfilment_id, "error": type(exc).__name__},
        )
        return False
    return True


def fulfilment_store() -> SqlFulfilmentStore:
    c = compose.container()
    return SqlFulfilmentStore(c.engine, c.sessions)


def queue_confirmation(
    result: Accepted | Rejected, clock: Clock, app: TaskSender | None
) -> Accepted | Rejected:
    """After the intake's commit: queue the confirmation of a fulfilment accepted just now."""
    if isinstance(result, Accepted) and result.created:
        f = result.fulfilment
        enqueue_confirmation(f.id, f.ship_by_latest, now=clock.now(), app=app)
    return result


def submit_fulfilment(
    data: Any, *, app: TaskSender | None = None, clock: Clock | None = None
) -> Accepted | Rejected:
    """The HTTP and CLI doors: a request's JSON in, accepted (and queued) or refused."""
    clock = clock or SystemClock()
    try:
        command = parse_request(data)
    except InvalidRequest as exc:
        return Rejected(exc.errors)
    return queue_confirmation(accept_fulfilment(command, fulfilment_store(), clock), clock, app)


def take_in_message(
    message: Mapping[str, Any], *, app: TaskSender | None = None, clock: Clock | None = None
) -> Accepted | Rejected:
    """The queue's door (``fulfil.intake``): a refusal is recorded with its event."""
    clock = clock or SystemClock()
    result = accept_fulfilment_message(message, fulfilment_store(), clock)
    return queue_confirmation(result, clock, app)


def retry_failed(
    fulfilment_id: int,
    *,
    cancellation_request_reviewed: bool = False,
    app: TaskSender | None = None,
    clock: Clock | None = None,
) -> Accepted | Rejected:
    """An operator's retry of a failed fulfilment: accepted again and queued."""
    clock = clock or SystemClock()
    result = retry_fulfilment(
        fulfilment_id,
        fulfilment_store(),
        clock,
        cancellation_request_reviewed=cancellation_request_reviewed,
    )
    return queue_confirmation(result, clock, app)
