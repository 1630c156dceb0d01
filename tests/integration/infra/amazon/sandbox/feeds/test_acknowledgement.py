"""POST_ORDER_ACKNOWLEDGEMENT_DATA over HTTP: a Failure cancels the order or listed items, and a
resend only warns.
"""

from __future__ import annotations

import pytest

from tests.integration.infra.amazon.sandbox.feeds.support import (
    Sandbox,
    acknowledgement,
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
