"""The platform's producer and the confirmations' queueing, with a recording sender: a message
leaves only when the model takes it, and matches the generated JSON Schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jsonschema
import pytest

from domain.fulfilments import InvalidRequest
from tests.fakes import T0
from workers.doors.fulfilments import (
    celery_priority,
    enqueue_confirmation,
    message_schema,
    publish_fulfilment,
)


@dataclass
class RecordingSender:
    """Celery's ``send_task`` as a list (what the broker would have received)."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.sent.append((name, kwargs))
        return type("Result", (), {"id": f"task-{len(self.sent)}"})()


def request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": "113-0000001-0000001",
        "platform_fulfilment_id": "F-1",
        "shipped_at": "2026-11-01T11:30:00+01:00",
        "carrier_code": "UPS",
        "tracking_number": "1Z999AA10123456784",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_the_producer_sends_a_versioned_message_that_matches_the_generated_schema() -> None:
    sender = RecordingSender()
    task_id = publish_fulfilment(request(), app=sender)
    ((name, options),) = sender.sent
    assert (task_id, name, options["queue"], options["routing_key"]) == (
        "task-1",
        "fulfil.intake",
        "fulfil",
        "fulfil",
    )
    (message,) = options["args"]
    jsonschema.validate(message, message_schema())
    assert message == {"version": 1, "type": "fulfilment.requested", **request()}


def test_the_producer_refuses_every_problem_before_the_message_reaches_the_queue() -> None:
    sender = RecordingSender()
    with pytest.raises(InvalidRequest) as caught:
        publish_fulfilment(request(tracking_number=None, version=2, colour="red"), app=sender)
    assert {e.field for e in caught.value.errors} == {"version", "tracking_number", "colour"}
    assert not sender.sent


def test_confirmations_are_queued_with_the_brokers_sense_of_priority() -> None:
    sender = RecordingSender()
    assert enqueue_confirmation(5, T0 + timedelta(hours=1), now=T0, app=sender)
    ((name, options),) = sender.sent
    assert (name, options["args"], options["priority"]) == ("fulfil.confirm", [5], 0)
    amqp = type("App", (), {"conf": type("Conf", (), {"broker_url": "amqp://x"})()})()
    assert celery_priority(0, amqp) == 9
    assert celery_priority(0, sender) == 0
