"""The platform's refund and cancellation producers and the batcher's flush, with a recording
sender: a message leaves only when its model takes it, and matches its generated JSON Schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from kombu.exceptions import OperationalError
from kombu.utils.json import dumps, loads

from workers.doors.refunds import (
    FLUSH_TASK,
    INTAKE_TASK,
    QUEUE,
    RefundRequestRefused,
    enqueue_flush,
    message_schema,
    publish_cancellation,
    publish_refund,
    read_refund_message,
)
from workers.queues import QUEUES, queue_of


@dataclass
class RecordingSender:
    """Celery's ``send_task`` as a list (what the broker would have received)."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    down: bool = False

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise OperationalError("broker away")
        self.sent.append((name, kwargs))
        return type("Result", (), {"id": f"task-{len(self.sent)}"})()


REFUND = {
    "account": "acme",
    "amazon_order_id": "113-0000001-0000001",
    "platform_refund_id": "R-1",
    "reason": "customer_return",
    "lines": [{"sku": "MUG-RED", "amounts": {"item_price": Decimal("19.99"), "tax": "1.60"}}],
}
CANCELLATION = {
    "account": "acme",
    "amazon_order_id": "113-0000001-0000001",
    "platform_cancellation_id": "C-1",
    "reason": "buyer_canceled",
}


def test_the_task_names_are_on_the_refund_queue() -> None:
    assert (INTAKE_TASK, FLUSH_TASK, QUEUE) == ("refund.intake", "refund.flush", "refund")
    assert QUEUE in QUEUES
    assert queue_of(INTAKE_TASK) == queue_of(FLUSH_TASK) == QUEUE


@pytest.mark.parametrize(
    ("publish", "request_", "kind"),
    [(publish_refund, REFUND, "refund"), (publish_cancellation, CANCELLATION, "cancellation")],
)
def test_the_producers_send_a_versioned_message_that_matches_the_generated_schema(
    publish: Any, request_: dict[str, Any], kind: str
) -> None:
    sender = RecordingSender()
    assert publish(request_, app=sender) == "task-1"
    ((name, options),) = sender.sent
    assert (name, options["queue"], options["routing_key"]) == (INTAKE_TASK, QUEUE, QUEUE)
    (message,) = options["args"]
    assert message == {"version": 1, "type": f"{kind}.requested", **request_}
    jsonschema.validate(message, message_schema(kind))


def test_a_decimal_crosses_the_queue_as_a_decimal() -> None:
    sender = RecordingSender()
    publish_refund(REFUND, app=sender)
    ((_, options),) = sender.sent
    (message,) = loads(dumps(options["args"]))  # kombu's JSON, as the worker receives it
    assert message["lines"][0]["amounts"]["item_price"] == Decimal("19.99")
    assert read_refund_message(message).lines[0].amounts[0][1] == Decimal("19.99")


def test_the_producers_refuse_every_problem_before_the_message_reaches_the_queue() -> None:
    sender = RecordingSender()
    with pytest.raises(RefundRequestRefused) as caught:
        publish_refund({**REFUND, "reason": None, "version": 2, "colour": "red"}, app=sender)
    assert {e.field for e in caught.value.errors} == {"version", "reason", "colour"}
    with pytest.raises(RefundRequestRefused) as caught:
        publish_cancellation({**CANCELLATION, "refund_amount": "-1"}, app=sender)
    assert [e.field for e in caught.value.errors] == ["refund_amount"]
    assert not sender.sent


def test_a_refund_sent_as_a_cancellation_is_refused() -> None:
    with pytest.raises(RefundRequestRefused) as caught:
        publish_cancellation(REFUND, app=RecordingSender())
    assert "platform_refund_id" in {e.field for e in caught.value.errors}


def test_the_flush_is_queued_for_the_account_and_is_best_effort() -> None:
    sender = RecordingSender()
    assert enqueue_flush(7, app=sender)
    ((name, options),) = sender.sent
    assert (name, options["args"], options["queue"]) == (FLUSH_TASK, [7], QUEUE)
    assert not enqueue_flush(7, app=RecordingSender(down=True))
