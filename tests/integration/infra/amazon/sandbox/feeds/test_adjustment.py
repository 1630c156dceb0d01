"""POST_PAYMENT_ADJUSTMENT_DATA over HTTP: refunds recorded per item, capped by what was
charged, units cancelled with a restocking fee kept back, and each refusal with its own clear
ResultDescription.
"""

from __future__ import annotations

import pytest

from infra.amazon.sandbox.feeds import ADJUSTMENT_REASONS
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
    assert "already refunded in full" in report.results[2]["description"]
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
    assert recorded["source"] == "feed" and recorded["order_adjustment_item_id"]


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


def test_each_refusal_has_its_own_clear_description(sandbox: Sandbox) -> None:
    order_id, (first, second) = sandbox.order(
        items=[
            {"sku": "A-1", "quantity": 2, "unit_price": "10.00"},
            {"sku": "B-2", "quantity": 1, "unit_price": "4.00"},
        ],
        status="SHIPPED",
    )
    taxless, (taxless_item,) = sandbox.order(status="SHIPPED")
    sandbox.client.post(f"/_sandbox/orders/{taxless}/tax-refundable", json={"refundable": False})
    first_feed, _ = sandbox.run(
        "POST_PAYMENT_ADJUSTMENT_DATA",
        envelope("OrderAdjustment", adjustment(1, order_id, first, {"Principal": "20.00"})),
    )
    today = sandbox.handle.state.now().date().isoformat()
    content = envelope(
        "OrderAdjustment",
        adjustment(1, order_id, second, {"Principal": "4.01"}),  # over-refund
        adjustment(2, order_id, first, {"Principal": "0.01"}),  # refunded in full before
        adjustment(3, order_id, second, {"Principal": "1.00"}, reason="Bored"),
        adjustment(4, taxless, taxless_item, {"Tax": "0.01"}),
        adjustment(5, order_id, second, {"Principal": "1.00"}, cancelled=1),  # it shipped
        adjustment(6, order_id, second, {"GiftWrap": "1.00"}),  # never charged
    )

    _, report = sandbox.run("POST_PAYMENT_ADJUSTMENT_DATA", content)
    _, broken = sandbox.run("POST_PAYMENT_ADJUSTMENT_DATA", b"<AmazonEnvelope><Message>")

    descriptions = {m: r["description"] for m, r in report.results.items()}
    where = "OrderAdjustment/AdjustedItem[0]"
    assert descriptions == {
        1: f"{where}: refund of Principal 4.01 USD exceeds the 4.00 USD left to refund "
        "(charged 4.00, refunded 0.00)",
        2: f"{where}: Principal of order item {first} was already refunded in full on {today} "
        f"by feed {first_feed['feedId']} (message 1): 20.00 USD charged, 20.00 USD refunded",
        3: f"{where}/AdjustmentReason 'Bored' is not one of {list(ADJUSTMENT_REASONS)}",
        4: "The requested refund amount for the tax or shipping tax is not eligible",
        5: f"{where}/QuantityCancelled 1 is more than the 0 unshipped unit(s) of order item "
        f"{second}; its 1 shipped unit(s) cannot be cancelled",
        6: f"{where}: order item {second} was not charged for GiftWrap, so 1.00 USD of it cannot "
        "be refunded",
    }
    assert {r["code"] for r in report.results.values()} == {"Error"}
    assert report.results[3]["message_code"] == "5001"
    assert report.results[1]["message_code"] == "18002"
    assert report.results[4]["order_id"] == taxless
    assert broken.results[0]["message_code"] == "5000"
    assert "XML Parsing Error" in broken.results[0]["description"]
    assert len(sandbox.view(order_id)["items"][1]["adjustments"]) == 0
