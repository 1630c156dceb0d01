"""POST_ORDER_ACKNOWLEDGEMENT_DATA over HTTP: a Failure cancels the order or listed items, a
resend only warns, and a whole-order cancel is refused once anything shipped.
"""

from __future__ import annotations

import pytest

from tests.integration.infra.amazon.sandbox.feeds.support import (
    Sandbox,
    acknowledgement,
    adjustment,
    envelope,
    fulfilment,
)

pytestmark = pytest.mark.integration


def test_an_acknowledgement_failure_cancels_the_order_and_a_resend_only_warns(
    sandbox: Sandbox,
) -> None:
    order_id, _ = sandbox.order()
    acknowledged, _ = sandbox.order()
    content = envelope(
        "OrderAcknowledgement",
        acknowledgement(1, order_id),
        acknowledgement(2, acknowledged, status="Success"),
    )

    _, report = sandbox.run("POST_ORDER_ACKNOWLEDGEMENT_DATA", content)
    _, again = sandbox.run("POST_ORDER_ACKNOWLEDGEMENT_DATA", content)

    assert (report.successful, report.with_error, report.results) == (2, 0, {})
    view = sandbox.view(order_id)
    assert view["status"] == "CANCELLED"
    item = view["order"]["orderItems"][0]
    assert item["cancellation"]["cancellationExecution"]["cancelledBy"] == "MERCHANT"
    assert item["fulfillment"]["quantityUnfulfilled"] == 0
    assert sandbox.view(acknowledged)["status"] == "UNSHIPPED"
    assert (again.successful, again.with_warning, again.with_error) == (2, 1, 0)
    assert again.results[1]["code"] == "Warning"


def test_cancelling_listed_items_leaves_the_rest_to_ship(sandbox: Sandbox) -> None:
    order_id, (first, second) = sandbox.order(
        items=[
            {"sku": "A-1", "quantity": 1, "unit_price": "1.00"},
            {"sku": "B-2", "quantity": 2, "unit_price": "2.00"},
        ]
    )

    sandbox.run(
        "POST_ORDER_ACKNOWLEDGEMENT_DATA",
        envelope("OrderAcknowledgement", acknowledgement(1, order_id, items=(first,))),
    )
    view = sandbox.view(order_id)
    assert view["status"] == "UNSHIPPED"
    assert view["items"][0]["quantity_cancelled"] == 1
    assert view["items"][0]["seller_cancel_reason"] == "NoInventory"
    sandbox.run(
        "POST_ORDER_FULFILLMENT_DATA", envelope("OrderFulfillment", fulfilment(1, order_id))
    )

    shipped = sandbox.view(order_id)
    assert shipped["status"] == "SHIPPED"
    assert shipped["packages"][0]["items"] == [{"order_item_id": second, "quantity": 2}]
    v0 = shipped["v0"]["order"]
    assert (v0["NumberOfItemsShipped"], v0["NumberOfItemsUnshipped"]) == (2, 0)


def test_a_shipped_order_cannot_be_cancelled_as_a_whole(sandbox: Sandbox) -> None:
    shipped, _ = sandbox.order(status="SHIPPED")
    afn, _ = sandbox.order(fulfilled_by="AMAZON")
    bad_reason = acknowledgement(3, shipped).replace(
        "</StatusCode>",
        "</StatusCode><Item><AmazonOrderItemCode>1</AmazonOrderItemCode>"
        "<CancelReason>Bored</CancelReason></Item>",
    )
    content = envelope(
        "OrderAcknowledgement",
        acknowledgement(1, shipped),
        acknowledgement(2, afn),
        bad_reason,
        acknowledgement(4, shipped, status="Maybe"),
    )

    _, report = sandbox.run("POST_ORDER_ACKNOWLEDGEMENT_DATA", content)

    assert (report.successful, report.with_error) == (0, 4)
    assert "shipped" in report.results[1]["description"]
    assert "fulfilled by Amazon" in report.results[2]["description"]
    assert "AmazonOrderItemCode" in report.results[3]["description"]
    assert "StatusCode" in report.results[4]["description"]
    assert sandbox.view(shipped)["status"] == "SHIPPED"


def test_a_whole_order_cancel_is_judged_by_what_shipped_not_by_what_was_refunded(
    sandbox: Sandbox,
) -> None:
    partial, _ = sandbox.order(status="PARTIALLY_SHIPPED")
    refunded, (refunded_item,) = sandbox.order(
        status="SHIPPED", items=[{"sku": "A-1", "quantity": 1, "unit_price": "10.00"}]
    )
    trimmed, (trimmed_item,) = sandbox.order(
        items=[{"sku": "A-1", "quantity": 3, "unit_price": "5.00"}]
    )
    pending, _ = sandbox.order(status="PENDING")
    sandbox.run(
        "POST_PAYMENT_ADJUSTMENT_DATA",
        envelope(
            "OrderAdjustment",
            adjustment(1, refunded, refunded_item, {"Principal": "10.00"}),
            adjustment(2, trimmed, trimmed_item, {"Principal": "5.00"}, cancelled=1),
        ),
    )
    content = envelope(
        "OrderAcknowledgement",
        acknowledgement(1, partial),
        acknowledgement(2, refunded),
        acknowledgement(3, trimmed),
        acknowledgement(4, pending),
        acknowledgement(5, trimmed),
    )

    _, report = sandbox.run("POST_ORDER_ACKNOWLEDGEMENT_DATA", content)
    _, broken = sandbox.run("POST_ORDER_ACKNOWLEDGEMENT_DATA", b"<AmazonEnvelope>")

    assert (report.successful, report.with_error, report.with_warning) == (3, 2, 1)
    for message_id, order_id in ((1, partial), (2, refunded)):
        result = report.results[message_id]
        assert result["code"] == "Error" and result["message_code"] == "18001"
        assert result["description"] == (
            f"Order {order_id} has shipped units and cannot be cancelled as a whole; cancel "
            "the unshipped items instead"
        )
    assert report.results[5]["code"] == "Warning"
    assert report.results[5]["description"] == f"Order {trimmed} is already cancelled"
    view = sandbox.view(trimmed)
    assert view["status"] == "CANCELLED" and view["items"][0]["quantity_cancelled"] == 3
    assert sandbox.view(pending)["status"] == "CANCELLED"
    assert sandbox.view(refunded)["status"] == "SHIPPED"
    assert broken.processed == 0 and broken.results[0]["message_code"] == "5000"
    events = sandbox.client.get("/_sandbox/finances/events", params={"order_id": trimmed})
    assert [e["kind"] for e in events.json()["events"]] == ["refund"]  # nothing shipped
