"""The control API's finance routes: a refund made in Seller Central (the adjustment feed's
limits, an adjustment with its source, a refund event), every adjustment of an order, the "tax
not refundable" switch, and the finance views.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from infra.amazon.sandbox.rules.refunds import TAX_NOT_REFUNDABLE
from tests.integration.infra.amazon.sandbox.feeds.support import Sandbox, adjustment, envelope
from tests.integration.infra.amazon.sandbox.finances.support import (
    adjustments,
    amounts,
    charged,
    order_events,
    seller_central_refund,
)

pytestmark = pytest.mark.integration


def test_a_seller_central_refund_is_listed_with_its_source_and_posts_a_refund_event(
    sandbox: Sandbox,
) -> None:
    order_id, (first, second) = sandbox.order(
        status="SHIPPED",
        items=[
            {"sku": "A-1", "quantity": 2, "unit_price": "10.00"},
            {"sku": "B-2", "quantity": 1, "unit_price": "6.00"},
        ],
    )
    refunded = seller_central_refund(
        sandbox,
        order_id,
        {first: {"Principal": "10.00", "RestockingFee": "-1.00"}, second: {"Goodwill": "0.40"}},
        reason="CustomerReturn",
    )
    _, report = sandbox.run(
        "POST_PAYMENT_ADJUSTMENT_DATA",
        envelope("OrderAdjustment", adjustment(1, order_id, second, {"Principal": "6.00"})),
    )

    assert refunded.status_code == 201, refunded.text
    answer = json.loads(refunded.text, parse_float=Decimal)
    assert [a["source"] for a in answer["adjustments"]] == ["seller_central"] * 2
    assert report.successful == 1
    listed = adjustments(sandbox, order_id)
    assert [(a["order_item_id"], a["source"]) for a in listed] == [
        (first, "seller_central"),
        (second, "seller_central"),
        (second, "feed"),
    ]
    by_hand, goodwill, by_feed = listed
    assert by_hand["components"] == [
        {"type": "Principal", "amount": "10.00"},
        {"type": "RestockingFee", "amount": "-1.00"},
    ]
    assert (by_hand["total"], by_hand["reason"], by_hand["quantity_cancelled"]) == (
        "9.00",
        "CustomerReturn",
        0,
    )
    assert by_hand["feed_id"] is None and by_hand["merchant_adjustment_item_id"] is None
    assert by_feed["feed_id"] and by_feed["message_id"] == 1
    assert by_feed["merchant_adjustment_item_id"] == "R-1"
    assert all(a["posted_time"].endswith("Z") for a in listed)
    assert len({a["order_adjustment_item_id"] for a in listed}) == 3
    refunds = order_events(sandbox, order_id)["RefundEventList"]
    assert len(refunds) == 2
    assert refunds[0] == answer["refund_event"]
    items = refunds[0]["ShipmentItemAdjustmentList"]
    assert [i["OrderAdjustmentItemId"] for i in items] == [
        by_hand["order_adjustment_item_id"],
        goodwill["order_adjustment_item_id"],
    ]
    assert amounts(items[0]["ItemChargeAdjustmentList"]) == {
        "Principal": Decimal("-10.00"),
        "RestockingFee": Decimal("1.00"),
    }
    assert sandbox.view(order_id)["items"][0]["adjustments"][0]["source"] == "seller_central"
    views = sandbox.client.get("/_sandbox/finances/events", params={"order_id": order_id}).json()
    assert [e["kind"] for e in views["events"]] == ["shipment", "refund", "refund"]
    (group,) = sandbox.client.get("/_sandbox/finances/groups").json()["groups"]
    assert {e["group_id"] for e in views["events"]} == {group["FinancialEventGroupId"]}
    assert group["event_count"] == 3 and group["ProcessingStatus"] == "Open"
    assert Decimal(str(group["OriginalTotal"]["CurrencyAmount"])) == sum(
        Decimal(e["net"]) for e in views["events"]
    )
    assert sandbox.client.get("/_sandbox/state").json()["financial_events"] == 3
    sandbox.client.post("/_sandbox/reset")
    assert sandbox.client.get("/_sandbox/finances/events").json() == {"events": []}


def test_a_seller_central_refund_has_the_feeds_limits_and_applies_wholly_or_not_at_all(
    sandbox: Sandbox,
) -> None:
    order_id, (item,) = sandbox.order(
        status="SHIPPED", items=[{"sku": "A-1", "quantity": 1, "unit_price": "10.00"}]
    )
    pending, (pending_item,) = sandbox.order(status="PENDING")
    assert (
        seller_central_refund(sandbox, order_id, {item: {"Principal": "10.00"}}).status_code == 201
    )

    refusals = [
        (order_id, {item: {"Principal": "1.00"}}, "CustomerReturn", "already refunded in full on"),
        (order_id, {item: {"Shipping": "100.00"}}, "CustomerReturn", "exceeds"),
        (order_id, {item: {"GiftWrap": "1.00"}}, "CustomerReturn", "was not charged for GiftWrap"),
        (order_id, {item: {"Bonus": "1.00"}}, "CustomerReturn", "items[0].components[0]: Type"),
        (order_id, {item: {"Goodwill": "-1.00"}}, "CustomerReturn", "negative"),
        (order_id, {item: {"RestockingFee": "1.00"}}, "CustomerReturn", "must be negative"),
        (order_id, {"1": {"Goodwill": "1.00"}}, "CustomerReturn", "items[0].order_item_id"),
        (order_id, {item: {"Goodwill": "1.00"}}, "Bored", "reason 'Bored'"),
        (pending, {pending_item: {"Principal": "1.00"}}, "CustomerReturn", "pending"),
    ]
    for target, items, reason, words in refusals:
        response = seller_central_refund(sandbox, target, items, reason=reason)
        assert response.status_code == 400, (items, response.text)
        assert words in response.json()["error"], (items, response.json())
    assert (
        seller_central_refund(sandbox, "999-9999999-9999999", {item: {"Goodwill": "1"}}).status_code
        == 404
    )
    refused_whole, (one, two) = sandbox.order(
        status="SHIPPED",
        items=[
            {"sku": "A", "quantity": 1, "unit_price": "5.00"},
            {"sku": "B", "quantity": 1, "unit_price": "5.00"},
        ],
    )
    half = seller_central_refund(
        sandbox, refused_whole, {one: {"Principal": "5.00"}, two: {"Principal": "6.00"}}
    )

    assert half.status_code == 400 and "items[1]" in half.json()["error"]
    assert adjustments(sandbox, refused_whole) == []
    assert order_events(sandbox, refused_whole)["RefundEventList"] == []
    assert len(adjustments(sandbox, order_id)) == 1


def test_a_feed_refund_of_what_seller_central_refunded_says_so(sandbox: Sandbox) -> None:
    order_id, (item,) = sandbox.order(
        status="SHIPPED", items=[{"sku": "A-1", "quantity": 1, "unit_price": "10.00"}]
    )
    seller_central_refund(sandbox, order_id, {item: {"Principal": "10.00"}})
    today = sandbox.handle.state.now().date().isoformat()

    _, report = sandbox.run(
        "POST_PAYMENT_ADJUSTMENT_DATA",
        envelope("OrderAdjustment", adjustment(1, order_id, item, {"Principal": "10.00"})),
    )

    assert report.results[1]["description"] == (
        f"OrderAdjustment/AdjustedItem[0]: Principal of order item {item} was already refunded "
        f"in full on {today} in Seller Central: 10.00 USD charged, 10.00 USD refunded"
    )


def test_tax_can_be_made_not_refundable_per_order(sandbox: Sandbox) -> None:
    order_id, (item,) = sandbox.order(
        status="SHIPPED", items=[{"sku": "A-1", "quantity": 1, "unit_price": "10.00"}]
    )
    other, (other_item,) = sandbox.order(
        status="SHIPPED", items=[{"sku": "A-1", "quantity": 1, "unit_price": "10.00"}]
    )
    paid = charged(sandbox, order_id)[item]
    switched = sandbox.client.post(
        f"/_sandbox/orders/{order_id}/tax-refundable", json={"refundable": False}
    )

    by_hand = seller_central_refund(sandbox, order_id, {item: {"Tax": str(paid["Tax"])}})
    _, report = sandbox.run(
        "POST_PAYMENT_ADJUSTMENT_DATA",
        envelope(
            "OrderAdjustment",
            adjustment(1, order_id, item, {"Principal": "1.00", "ShippingTax": "0.01"}),
            adjustment(2, order_id, item, {"Principal": "1.00"}),
            adjustment(3, other, other_item, {"Tax": str(paid["Tax"])}),
        ),
    )
    sandbox.client.post(f"/_sandbox/orders/{order_id}/tax-refundable", json={"refundable": True})
    again = seller_central_refund(sandbox, order_id, {item: {"Tax": str(paid["Tax"])}})

    assert switched.json() == {"order_id": order_id, "tax_refundable": False}
    assert by_hand.status_code == 400 and by_hand.json()["error"] == TAX_NOT_REFUNDABLE
    assert report.results[1]["description"] == TAX_NOT_REFUNDABLE
    assert report.results[1]["code"] == "Error"
    assert set(report.results) == {1}  # a principal alone, and another order, are refunded
    assert again.status_code == 201
    assert sandbox.view(order_id)["tax_refundable"] is True
