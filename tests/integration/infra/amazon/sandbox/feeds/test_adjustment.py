"""POST_PAYMENT_ADJUSTMENT_DATA over HTTP: refunds recorded per item, capped by what was
charged, and units cancelled with a restocking fee kept back.
"""

from __future__ import annotations

import pytest

from tests.integration.infra.amazon.sandbox.feeds.support import (
    Sandbox,
    adjustment,
    envelope,
)

pytestmark = pytest.mark.integration


def test_refunds_are_recorded_per_item_and_capped_by_what_was_charged(sandbox: Sandbox) -> None:
    order_id, (item,) = sandbox.order(
        items=[{"sku": "A-1", "quantity": 2, "unit_price": "10.00"}], status="SHIPPED"
    )
    charged = sandbox.view(order_id)["v0"]["order_items"][0]
    shipping = charged["ShippingPrice"]["Amount"]
    content = envelope(
        "OrderAdjustment",
        adjustment(1, order_id, item, {"Principal": "20.00", "Shipping": shipping}),
        adjustment(2, order_id, item, {"Principal": "20.00"}),  # a second full refund
        adjustment(3, order_id, item, {"Principal": "1.00"}, reason=None),
        adjustment(4, order_id, "00000000000000", {"Principal": "1.00"}),
        adjustment(5, order_id, item, {"Principal": "1.00"}, currency="EUR"),
        adjustment(6, order_id, item, {"Principal": "-1.00"}),
        adjustment(7, order_id, item, {"Bonus": "1.00"}),
    )

    feed, report = sandbox.run("POST_PAYMENT_ADJUSTMENT_DATA", content)

    assert feed["processingStatus"] == "DONE"
    assert (report.processed, report.successful, report.with_error) == (7, 1, 6)
    assert set(report.results) == {2, 3, 4, 5, 6, 7}
    assert "exceeds" in report.results[2]["description"]
    assert "AdjustmentReason" in report.results[3]["description"]
    assert "AmazonOrderItemCode" in report.results[4]["description"]
    assert "currency" in report.results[5]["description"]
    assert "negative" in report.results[6]["description"]
    assert "Type" in report.results[7]["description"]
    (recorded,) = sandbox.view(order_id)["items"][0]["adjustments"]
    assert recorded["reason"] == "CustomerReturn"
    assert recorded["merchant_adjustment_item_id"] == "R-1"
    assert recorded["components"] == [
        {"type": "Principal", "amount": "20.00"},
        {"type": "Shipping", "amount": shipping},
    ]
    assert recorded["feed_id"] == feed["feedId"] and recorded["message_id"] == 1


def test_an_adjustment_can_cancel_unshipped_units_and_keep_a_restocking_fee(
    sandbox: Sandbox,
) -> None:
    order_id, (item,) = sandbox.order(items=[{"sku": "A-1", "quantity": 3, "unit_price": "5.00"}])
    pending, (pending_item,) = sandbox.order(status="PENDING")
    content = envelope(
        "OrderAdjustment",
        adjustment(
            1,
            order_id,
            item,
            {"Principal": "10.00", "RestockingFee": "-1.50"},
            reason="NoInventory",
            cancelled=2,
        ),
        adjustment(2, order_id, item, {"Principal": "1.00"}, cancelled=2),  # only 1 left
        adjustment(3, pending, pending_item, {"Principal": "1.00"}),
    )

    _, report = sandbox.run("POST_PAYMENT_ADJUSTMENT_DATA", content)

    assert (report.successful, report.with_error) == (1, 2)
    assert "QuantityCancelled" in report.results[2]["description"]
    assert "pending" in report.results[3]["description"]
    view = sandbox.view(order_id)
    assert view["items"][0]["quantity_cancelled"] == 2
    assert view["items"][0]["adjustments"][0]["total"] == "8.50"
    assert view["status"] == "UNSHIPPED"
    item_json = view["order"]["orderItems"][0]
    assert item_json["fulfillment"]["quantityUnfulfilled"] == 1
    assert item_json["cancellation"]["cancellationExecution"]["cancelReason"] == "NoInventory"
