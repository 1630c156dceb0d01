"""The queue door of refunds and cancellations on the real store and broker: the platform's
messages cross the broker as task ``refund.intake`` and are taken in (``take_in_message``, what
the task runs) with the same models as HTTP and the CLI; a refusal, of the shape or by the
rules, is recorded once with its reasons and a failed event; twice is one effect; the batcher's
flush is queued after an accept."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select

from domain.orders import AmazonOrder
from domain.refunds import Accepted
from domain.shared import Rejected
from infra.db.tables import OutboxEvent, RejectedRefund
from infra.db.tables import Refund as RefundRow
from tests.integration.workers.fulfilments import count
from tests.integration.workers.refunds import cancellation_body, drain_refunds, refund_body
from workers import bootstrap
from workers.doors import refunds as producer
from workers.doors.refunds.intake import take_in_message

pytestmark = pytest.mark.integration


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


DEEP = _nested(40)


def delivered(app: Any) -> list[dict[str, Any]]:
    """The refund queue's intake messages, as the worker's task receives them."""
    found = []
    for headers, (args, _kwargs, _embed) in drain_refunds(app):
        assert headers["task"] == "refund.intake"
        (message,) = args
        found.append(message)
    return found


def outbox(container: bootstrap.Container, topic: str) -> list[Any]:
    with container.engine.connect() as conn:
        return list(conn.execute(select(OutboxEvent).where(OutboxEvent.topic == topic)).all())


def test_both_kinds_cross_the_broker_and_are_taken_in_once_each(
    celery_app: Any, charged: AmazonOrder, container: bootstrap.Container, account_id: int
) -> None:
    refund = refund_body(charged)
    refund["lines"][0]["amounts"] = {"item_price": Decimal("9.99"), "tax": "0.80"}
    cancellation = cancellation_body(charged)
    for _ in range(2):  # the platform sent each twice
        producer.publish_refund(refund, app=celery_app)
        producer.publish_cancellation(cancellation, app=celery_app)
    messages = delivered(celery_app)
    assert [m["type"] for m in messages] == ["refund.requested", "cancellation.requested"] * 2
    assert messages[0]["lines"][0]["amounts"]["item_price"] == Decimal("9.99")
    results = []
    for message in messages:
        jsonschema.validate(message, producer.message_schema(producer.kind_of(message)))
        results.append(take_in_message(message, app=celery_app))
    assert all(isinstance(r, Accepted) for r in results)
    assert [r.created for r in results if isinstance(r, Accepted)] == [True, True, False, False]
    assert count(container.engine, RefundRow) == 2
    flushes = drain_refunds(celery_app)
    assert [h["task"] for h, _ in flushes] == ["refund.flush", "refund.flush"]
    assert [body[0] for _, body in flushes] == [[account_id], [account_id]]
    refunded = results[0]
    assert isinstance(refunded, Accepted)
    assert refunded.refund.total.amount == Decimal("10.79")


def test_a_message_the_rules_refuse_is_recorded_once_with_a_failed_event(
    celery_app: Any, charged: AmazonOrder, container: bootstrap.Container, account_id: int
) -> None:
    message = {
        "version": 1,
        "type": "refund.requested",
        **refund_body(charged, lines=[{"sku": "MUG-BLUE", "amounts": {"item_price": "5.01"}}]),
    }
    for _ in range(2):
        result = take_in_message(message, app=celery_app)
        assert isinstance(result, Rejected)
        assert [e.field for e in result.errors] == ["lines[0].amounts.item_price"]
    assert count(container.engine, RejectedRefund) == 1
    (event,) = outbox(container, "refunds/failed")
    assert event.aggregate_key == f"order:{account_id}:{charged.amazon_order_id}"
    assert event.payload["state"] == "rejected"
    assert event.payload["error"]["source"] == "validation"
    assert event.payload["platform_refund_id"] == "R-1"
    assert count(container.engine, RefundRow) == 0
    assert drain_refunds(celery_app) == []  # nothing to flush


def test_a_malformed_message_is_recorded_with_every_reason_and_never_lost(
    celery_app: Any, charged: AmazonOrder, container: bootstrap.Container
) -> None:
    message = {
        "version": 1,
        "type": "cancellation.requested",
        **cancellation_body(charged, reason="why", refund_amount=Decimal("-1")),
    }
    result = take_in_message(message, app=celery_app)
    assert isinstance(result, Rejected)
    refused = take_in_message("not an object", app=celery_app)
    assert isinstance(refused, Rejected)
    assert [(e.field, e.reason) for e in refused.errors] == [("message", "must be a JSON object")]
    with container.engine.connect() as conn:
        rows = conn.execute(select(RejectedRefund).order_by(RejectedRefund.id)).all()
    assert [row.kind for row in rows] == ["cancellation", "refund"]
    assert [e["field"] for e in rows[0].errors] == ["reason", "refund_amount"]
    assert rows[0].request["refund_amount"] == "-1"  # a decimal kept as its text
    assert rows[0].platform_id == "C-1" and rows[0].amazon_order_id == charged.amazon_order_id
    assert rows[1].request == {"message": "not an object"}
    assert len(outbox(container, "cancellations/failed")) == 1
    assert len(outbox(container, "refunds/failed")) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"account": "a\x00b"},
        {"account": 2**70},
        {"amazon_order_id": "\ud800"},
        {"platform_refund_id": "R" * 500},
        {"lines": DEEP},
        {"lines": [{"sku": "MUG-RED", "amounts": {"item_price": float("nan")}}]},
        {"version": 2**64, "type": "\x00"},
    ],
)
def test_a_hostile_message_is_recorded_never_a_crash(
    celery_app: Any, charged: AmazonOrder, container: bootstrap.Container, changes: dict[str, Any]
) -> None:
    message = {"version": 1, "type": "refund.requested", **refund_body(charged), **changes}
    for _ in range(2):
        assert isinstance(take_in_message(message, app=celery_app), Rejected)
    assert count(container.engine, RejectedRefund) == 1
    assert len(outbox(container, "refunds/failed")) == 1
    assert count(container.engine, RefundRow) == 0
