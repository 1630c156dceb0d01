"""The queue door of fulfilment intake on the real store and broker: the platform's message
crosses the broker and is taken in by ``fulfil.intake`` in-process, checked with the same model
as HTTP and the CLI, and a refusal is recorded with its reasons; confirmations are queued most
urgent first, and the sweeper queues a fulfilment whose message was lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from sqlalchemy import func, select, update

from domain.orders import AmazonOrder, FulfilledBy
from infra.broker import EPOCH_KEY, data_since
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.db.tables import OutboxEvent, RejectedFulfilment
from tests.integration.workers.fulfilments import RecordingSender, add_order, body, count, drain
from workers import bootstrap
from workers.doors import fulfilments as producer

pytestmark = pytest.mark.integration


def test_the_broker_hands_out_the_most_urgent_confirmation_first(celery_app: Any) -> None:
    now = datetime.now(UTC)
    for fulfilment_id, ship_by in [
        (1, now + timedelta(days=5)),
        (2, None),
        (3, now + timedelta(hours=1)),
        (4, now + timedelta(hours=30)),
        (5, now + timedelta(hours=6)),
    ]:
        assert producer.enqueue_confirmation(fulfilment_id, ship_by, now=now, app=celery_app)
    queued = [args[0] for _headers, (args, _kwargs, _embed) in drain(celery_app)]
    assert queued == [3, 5, 4, 1, 2]  # ship-by within 2 h, 12 h, 48 h, later, unknown


def test_a_published_message_crosses_the_broker_and_is_taken_in_once(
    celery_app: Any, order: AmazonOrder, container: bootstrap.Container
) -> None:
    from workers.tasks import fulfil as tasks_fulfil

    message = body(order)
    producer.publish_fulfilment(message, app=celery_app)
    producer.publish_fulfilment(message, app=celery_app)  # the platform sent it twice
    delivered = drain(celery_app)
    assert [headers["task"] for headers, _ in delivered] == ["fulfil.intake"] * 2
    for _headers, (args, _kwargs, _embed) in delivered:
        (sent,) = args
        jsonschema.validate(sent, producer.message_schema())
        assert sent == {"version": 1, "type": "fulfilment.requested", **message}
        result = tasks_fulfil.intake(sent)
        assert result["accepted"] is True
    assert count(container.engine, FulfilmentRow) == 1
    (confirm,) = drain(celery_app)  # one confirmation queued, for the one fulfilment
    headers, (args, _, _) = confirm
    assert headers["task"] == "fulfil.confirm" and args == [result["fulfilment_id"]]


def test_a_refused_message_is_recorded_with_a_failed_event(
    celery_app: Any, container: bootstrap.Container, account_id: int
) -> None:
    from workers.tasks import fulfil as tasks_fulfil

    fba = add_order(container, account_id, 6, fulfilled_by=FulfilledBy.AMAZON)
    message = {"version": 1, "type": "fulfilment.requested", **body(fba)}
    for _ in range(2):
        result = tasks_fulfil.intake(message)
        assert result == {
            "accepted": False,
            "reason": "amazon_order_id: fulfilled by Amazon: it cannot be fulfilled here",
        }
    assert count(container.engine, RejectedFulfilment) == 1
    with container.engine.connect() as conn:
        event = conn.execute(
            select(OutboxEvent).where(OutboxEvent.topic == "fulfilments/failed")
        ).one()
    assert event.aggregate_key == f"order:{account_id}:{fba.amazon_order_id}"
    assert event.payload["error"]["errors"] == [
        {"field": "amazon_order_id", "reason": "fulfilled by Amazon: it cannot be fulfilled here"}
    ]
    assert drain(celery_app) == []


def test_a_malformed_message_is_recorded_with_every_reason_and_never_lost(
    celery_app: Any, container: bootstrap.Container, account_id: int, order: AmazonOrder
) -> None:
    from workers.tasks import fulfil as tasks_fulfil

    message = {
        "version": 1,
        "type": "fulfilment.requested",
        **body(
            order, shipped_at="2026-11-01T10:00:00", lines=[{"sku": "MUG-RED", "quantity": "2"}]
        ),
    }
    result = tasks_fulfil.intake(message)
    assert result == {
        "accepted": False,
        "reason": "shipped_at: '2026-11-01T10:00:00' has no time zone (add Z or +hh:mm); "
        "lines[0].quantity: must be a whole number of at least 1",
    }
    assert tasks_fulfil.intake("not an object") == {
        "accepted": False,
        "reason": "message: must be a JSON object",
    }
    assert count(container.engine, RejectedFulfilment) == 2
    assert count(container.engine, FulfilmentRow) == 0
    with container.engine.connect() as conn:
        rejected = conn.execute(select(RejectedFulfilment).order_by(RejectedFulfilment.id)).all()
    assert rejected[0].errors == [
        {
            "field": "shipped_at",
            "reason": "'2026-11-01T10:00:00' has no time zone (add Z or +hh:mm)",
        },
        {"field": "lines[0].quantity", "reason": "must be a whole number of at least 1"},
    ]
    assert rejected[0].amazon_order_id == order.amazon_order_id
    assert drain(celery_app) == []


def test_a_message_of_another_version_is_refused_naming_the_version(
    container: bootstrap.Container, order: AmazonOrder
) -> None:
    from workers.tasks import fulfil as tasks_fulfil

    result = tasks_fulfil.intake({"version": 2, "type": "fulfilment.requested", **body(order)})
    assert result == {
        "accepted": False,
        "reason": "version: 2 is not a version this channel reads (1)",
    }
    assert count(container.engine, RejectedFulfilment) == 1


def test_the_sweeper_queues_a_fulfilment_whose_message_was_lost(
    celery_app: Any, order: AmazonOrder, container: bootstrap.Container
) -> None:
    from workers.tasks import fulfil as tasks_fulfil

    # A broker that has held its data for a day (a new or wiped one makes the sweep republish
    # at once: ``workers.epoch``).
    with celery_app.pool.acquire(block=True) as connection:
        if connection.transport.driver_type == "redis":
            connection.default_channel.client.delete(EPOCH_KEY)
        data_since(connection, datetime.now(UTC) - timedelta(days=1))
    lost = RecordingSender()  # the message queued after the commit never reached the broker
    producer.submit_fulfilment(body(order), app=lost)
    assert tasks_fulfil.sweep() == 0  # not due yet: its own message may still come
    with container.engine.begin() as conn:
        conn.execute(update(FulfilmentRow).values(next_attempt_at=func.now()))
    assert tasks_fulfil.sweep() == 1
    assert tasks_fulfil.sweep() == 0
    assert [h["task"] for h, _ in drain(celery_app)] == ["fulfil.confirm"]


def test_the_deadline_task_warns_once(container: bootstrap.Container, account_id: int) -> None:
    from workers.tasks import fulfil as tasks_fulfil

    add_order(container, account_id, 10, ship_by_latest=datetime.now(UTC) + timedelta(hours=2))
    first = tasks_fulfil.check_ship_by_deadlines()
    second = tasks_fulfil.check_ship_by_deadlines()
    assert (first["approaching"], second["approaching"]) == (1, 0)
    with container.engine.connect() as conn:
        payload = conn.execute(
            select(OutboxEvent.payload).where(OutboxEvent.topic == "orders/ship_by_approaching")
        ).scalar_one()
    assert payload["quantity_unshipped"] == 4 and payload["buyer_notified_by"] == "amazon"
