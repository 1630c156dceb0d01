"""What Flower shows of a task: Celery's ``argsrepr`` names the account and the order (and the
platform's id), never the message's body, on the messages as the broker holds them."""

from __future__ import annotations

from typing import Any

import pytest

from domain.orders import AmazonOrder
from tests.integration.workers.fulfilments import body, drain
from tests.integration.workers.refunds import drain_refunds, refund_body
from workers import bootstrap
from workers.doors import fulfilments as producer
from workers.doors import refunds as refund_producer
from workers.tasks import fulfil as tasks_fulfil

pytestmark = pytest.mark.integration


def test_a_fulfilment_and_its_confirmation_are_shown_by_account_and_order(
    celery_app: Any, order: AmazonOrder, container: bootstrap.Container, account_id: int
) -> None:
    producer.publish_fulfilment(body(order), app=celery_app)
    ((headers, (args, _, _)),) = drain(celery_app)
    shown = f"account=acme order={order.amazon_order_id} fulfilment=F-1"
    assert (headers["argsrepr"], headers["kwargsrepr"]) == (shown, "{}")
    assert "1Z999AA10123456784" not in headers["argsrepr"]  # the tracking number stays out
    result = tasks_fulfil.intake(args[0])
    ((confirm, _),) = drain(celery_app)
    assert confirm["task"] == "fulfil.confirm"
    assert confirm["argsrepr"] == (
        f"account={account_id} order={order.amazon_order_id} "
        f"fulfilment_id={result['fulfilment_id']}"
    )


def test_a_refund_is_shown_by_account_order_and_the_platforms_id(
    celery_app: Any, charged: AmazonOrder
) -> None:
    refund_producer.publish_refund(refund_body(charged), app=celery_app)
    ((headers, _),) = drain_refunds(celery_app)
    assert headers["argsrepr"] == f"account=acme order={charged.amazon_order_id} refund=R-1"
