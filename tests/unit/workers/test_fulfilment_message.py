"""The producer's fulfilment message: versioned, checked against its schema before it reaches the
queue, and queued with the broker's sense of priority."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jsonschema
import pytest

from domain.fulfilments import InvalidRequest
from tests.fakes import T0
from tests.unit.domain.fulfilments.helpers import request
from workers.doors import fulfilments as producer


@dataclass
class RecordingSender:
    """Celery's ``send_task`` as a list (what the broker would have received)."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.sent.append((name, kwargs))
        return type("Result", (), {"id": f"task-{len(self.sent)}"})()


def test_the_producer_sends_a_versioned_message_that_matches_its_schema() -> None:
    sender = RecordingSender()
    task_id = producer.publish_fulfilment(request(), app=sender)
    ((name, options),) = sender.sent
    assert (task_id, name, options["queue"]) == ("task-1", "fulfil.intake", "fulfil")
    (message,) = options["args"]
    jsonschema.validate(message, producer.message_schema())
    assert (message["version"], message["type"]) == (1, "fulfilment.requested")


def test_the_producer_refuses_a_malformed_message_before_it_reaches_the_queue() -> None:
    sender = RecordingSender()
    with pytest.raises(InvalidRequest) as caught:
        producer.publish_fulfilment(request(tracking_number=None, version=2), app=sender)
    assert {e.field for e in caught.value.errors} == {"version", "tracking_number"}
    assert not sender.sent


def test_confirmations_are_queued_with_the_brokers_sense_of_priority() -> None:
    sender = RecordingSender()
    producer.enqueue_confirmation(5, T0 + timedelta(hours=1), now=T0, app=sender)
    ((name, options),) = sender.sent
    assert (name, options["args"], options["priority"]) == ("fulfil.confirm", [5], 0)
    amqp = type("App", (), {"conf": type("Conf", (), {"broker_url": "amqp://x"})()})()
    assert producer.celery_priority(0, amqp) == 9
    assert producer.celery_priority(0, sender) == 0
