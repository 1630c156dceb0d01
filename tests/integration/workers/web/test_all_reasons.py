"""Every reason in one answer: a POST whose shape is refused (a bad date, a missing field, a
line the model cannot read) is still checked by the rules on what was read (an unknown order
item, more than was ordered, an unknown order), so one 422 lists the reasons of both; a rule's
word about a refused field or line is never given (it would be about a stand-in). The same
reasons come from the queue's door and the CLI's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.orders import AmazonOrder
from domain.shared import Rejected
from tests.integration.workers.fulfilments import AUTH, RecordingSender, body
from tests.integration.workers.refunds import cancellation_body, refund_body
from workers import bootstrap
from workers.doors import fulfilments as fulfilment_door
from workers.doors import refunds as refund_door
from workers.web import create_app
from workers.web.fulfilments import confirmation_sender
from workers.web.refunds import flush_sender

pytestmark = pytest.mark.integration

UNKNOWN_ORDER = (
    "unknown order: the store has no such order for this account (not synced yet, or another "
    "account's)"
)


@pytest.fixture
def client(container: bootstrap.Container, sender: RecordingSender) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[confirmation_sender] = lambda: sender
    app.dependency_overrides[flush_sender] = lambda: sender
    with TestClient(app) as client:
        yield client


def post(client: TestClient, path: str, data: Any) -> dict[str, str]:
    headers = {**AUTH, "Idempotency-Key": "k-1", "Content-Type": "application/json"}
    response = client.post(path, content=json.dumps(data), headers=headers)
    assert response.status_code == 422, response.text
    assert set(response.json()) == {"errors"}
    return {e["field"]: e["reason"] for e in response.json()["errors"]}


def test_a_fulfilment_with_a_bad_date_gets_the_rules_reasons_for_its_lines_too(
    client: TestClient, charged: AmazonOrder
) -> None:
    item_a = charged.lines[0].order_item_id
    sent = body(
        charged,
        shipped_at="28/11/2026",
        lines=[
            {"order_item_id": "no-such-item", "quantity": 1},
            {"order_item_id": item_a, "quantity": 7},
            {"sku": "MUG-BLUE", "quantity": 0},
        ],
    )
    assert post(client, "/v1/fulfilments", sent) == {
        "shipped_at": "'28/11/2026' is not an ISO 8601 time",
        "lines[2].quantity": "must be a whole number of at least 1",
        "lines[0].order_item_id": "not an item of this order",
        "lines[1].quantity": "more than remains unshipped: 7 asked, 3 of 3 remain (0 shipped, "
        "0 in earlier fulfilments)",
    }


def test_a_fulfilment_of_an_unknown_order_says_so_beside_its_shape(
    client: TestClient, charged: AmazonOrder
) -> None:
    sent = body(charged, amazon_order_id="999-0000000-0000000", tracking_number=None)
    assert post(client, "/v1/fulfilments", sent) == {
        "tracking_number": "required: the carrier's tracking number",
        "amazon_order_id": UNKNOWN_ORDER,
    }


def test_the_rules_are_not_asked_when_the_order_cannot_be_read(
    client: TestClient, charged: AmazonOrder
) -> None:
    sent = body(charged, amazon_order_id="", lines=[{"order_item_id": "nope", "quantity": 1}])
    assert post(client, "/v1/fulfilments", sent) == {"amazon_order_id": "required"}


def test_a_rule_about_a_refused_field_or_line_is_not_given(
    client: TestClient, charged: AmazonOrder
) -> None:
    """Every line refused: no "nothing remains" nor quantity about the stand-in; the order's
    own state still counts (here: fine), and so does the buyer's request to cancel."""
    sent = body(charged, shipped_at="soon", lines=[{"sku": "MUG-RED", "quantity": "2"}])
    assert post(client, "/v1/fulfilments", sent) == {
        "shipped_at": "'soon' is not an ISO 8601 time",
        "lines[0].quantity": "must be a whole number of at least 1",
    }


def test_a_refund_with_a_bad_reason_gets_the_rules_reasons_for_its_lines_too(
    client: TestClient, charged: AmazonOrder
) -> None:
    item_a = charged.lines[0].order_item_id
    sent = refund_body(
        charged,
        reason="because",
        lines=[
            {"order_item_id": "no-such-item", "amounts": {"item_price": "1.00"}},
            {"order_item_id": item_a, "amounts": {"item_price": "500.00"}},
            {"sku": "MUG-BLUE", "amounts": {"item_price": "x"}},
        ],
    )
    found = post(client, "/v1/refunds", sent)
    assert set(found) == {
        "reason",
        "lines[2].amounts.item_price",
        "lines[0].order_item_id",
        "lines[1].amounts.item_price",
    }, found
    assert found["lines[0].order_item_id"] == (
        f"'no-such-item' is not an item of this order (its items: {item_a}, "
        f"{charged.lines[1].order_item_id})"
    )
    assert "more than" in found["lines[1].amounts.item_price"], found


def test_a_cancellation_with_a_bad_field_gets_the_rules_reasons_too(
    client: TestClient, charged: AmazonOrder
) -> None:
    sent = cancellation_body(
        charged,
        platform_cancellation_id="",
        lines=[{"sku": "NO-SUCH-SKU"}, {"sku": "MUG-RED", "quantity": 9}],
    )
    found = post(client, "/v1/cancellations", sent)
    assert set(found) == {"platform_cancellation_id", "lines[0].sku", "lines[1].quantity"}, found
    assert "more than" in found["lines[1].quantity"] or "only" in found["lines[1].quantity"]


def test_the_queue_and_the_cli_doors_give_the_same_reasons(
    container: bootstrap.Container, charged: AmazonOrder, sender: RecordingSender
) -> None:
    sent = body(charged, shipped_at="tomorrow", lines=[{"order_item_id": "x", "quantity": 1}])
    expected = {
        "shipped_at": "'tomorrow' is not an ISO 8601 time",
        "lines[0].order_item_id": "not an item of this order",
    }
    by_cli = fulfilment_door.submit_fulfilment(sent, app=sender)
    message = {**sent, "version": 1, "type": "fulfilment.requested"}
    by_queue = fulfilment_door.take_in(message, fulfilment_door.fulfilment_store(), container.clock)
    for result in (by_cli, by_queue):
        assert isinstance(result, Rejected)
        assert {e.field: e.reason for e in result.errors} == expected
    refund = refund_body(charged, reason="?", lines=[{"sku": "NOPE", "quantity": 1}])
    by_refund_cli = refund_door.submit_refund(refund, app=sender)
    assert isinstance(by_refund_cli, Rejected)
    assert set(e.field for e in by_refund_cli.errors) == {"reason", "lines[0].sku"}
