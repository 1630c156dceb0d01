"""Financial events over HTTP: a package shipped posts a shipment event with what the buyer was
charged and Amazon's fees; an accepted adjustment posts a refund event; both at sandbox time.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.amazon.sandbox.state import parse_iso
from tests.integration.infra.amazon.sandbox.conformance.schemas import assert_conforms
from tests.integration.infra.amazon.sandbox.feeds.support import (
    SHIPPED_AT,
    Sandbox,
    adjustment,
    envelope,
    fulfilment,
)
from tests.integration.infra.amazon.sandbox.finances.support import (
    adjustments,
    amounts,
    charged,
    finances,
    order_events,
)

pytestmark = pytest.mark.integration


def _confirm(sandbox: Sandbox, order_id: str, item_id: str, quantity: int) -> None:
    response = sandbox.client.post(
        f"/orders/v0/orders/{order_id}/shipmentConfirmation",
        json={
            "marketplaceId": "ATVPDKIKX0DER",
            "packageDetail": {
                "packageReferenceId": "1",
                "carrierCode": "UPS",
                "trackingNumber": "1Z999AA10123456784",
                "shipDate": SHIPPED_AT,
                "orderItems": [{"orderItemId": item_id, "quantity": quantity}],
            },
        },
        headers=sandbox.headers,
    )
    assert response.status_code == 204, response.text


def test_each_shipment_posts_an_event_and_together_they_charge_what_the_lines_cost(
    sandbox: Sandbox,
) -> None:
    order_id, (first, second) = sandbox.order(
        items=[
            {"sku": "A-1", "quantity": 3, "unit_price": "10.00"},
            {"sku": "B-2", "quantity": 1, "unit_price": "5.00"},
        ]
    )
    sandbox.handle.state.advance_clock(3600)
    sandbox.log_in()
    assert order_events(sandbox, order_id)["ShipmentEventList"] == []

    _confirm(sandbox, order_id, first, 2)
    _confirm(sandbox, order_id, first, 2)  # the same package again: an edit, no new charge
    after_one = order_events(sandbox, order_id)["ShipmentEventList"]
    sandbox.run(
        "POST_ORDER_FULFILLMENT_DATA", envelope("OrderFulfillment", fulfilment(1, order_id))
    )
    events = order_events(sandbox, order_id)
    shipments = events["ShipmentEventList"]

    assert len(after_one) == 1
    (line,) = after_one[0]["ShipmentItemList"]
    assert (line["OrderItemId"], line["SellerSKU"], line["QuantityShipped"]) == (first, "A-1", 2)
    assert amounts(line["ItemChargeList"])["Principal"] == Decimal("20.00")
    assert amounts(line["ItemFeeList"], "Fee") == {
        "FixedClosingFee": Decimal(0),
        "Commission": Decimal("-3.00"),
    }
    assert abs(parse_iso(after_one[0]["PostedDate"]) - sandbox.handle.state.now()).seconds < 30
    assert after_one[0]["MarketplaceName"] == "Amazon.com"
    assert len(shipments) == 2 and events["RefundEventList"] == []
    assert [i["QuantityShipped"] for i in shipments[1]["ShipmentItemList"]] == [1, 1]
    totals: dict[str, dict[str, Decimal]] = {}
    for event in shipments:
        for item in event["ShipmentItemList"]:
            for kind, amount in amounts(item["ItemChargeList"]).items():
                line_totals = totals.setdefault(item["OrderItemId"], {})
                line_totals[kind] = line_totals.get(kind, Decimal(0)) + amount
    for item_id, paid in charged(sandbox, order_id).items():
        assert totals[item_id]["Principal"] == paid["Principal"]
        assert totals[item_id]["ShippingCharge"] == paid["Shipping"]
        assert totals[item_id]["Tax"] == paid["Tax"]
        assert totals[item_id]["ShippingTax"] == paid["ShippingTax"]
        assert totals[item_id]["GiftWrap"] == 0
    assert [i["quantity_charged"] for i in sandbox.view(order_id)["items"]] == [3, 1]
    assert second in totals


def test_an_amazon_fulfilled_order_pays_the_fulfilment_fee(sandbox: Sandbox) -> None:
    order_id, _ = sandbox.order(
        fulfilled_by="AMAZON",
        status="SHIPPED",
        items=[{"sku": "F-1", "quantity": 2, "unit_price": "12.00"}],
    )

    (event,) = order_events(sandbox, order_id)["ShipmentEventList"]
    fees = amounts(event["ShipmentItemList"][0]["ItemFeeList"], "Fee")

    assert fees["FBAPerUnitFulfillmentFee"] == Decimal("-6.44")
    assert fees["Commission"] == Decimal("-3.60")


def test_an_accepted_adjustment_posts_a_refund_event_per_message(sandbox: Sandbox) -> None:
    order_id, (item,) = sandbox.order(
        items=[{"sku": "A-1", "quantity": 2, "unit_price": "10.00"}], status="SHIPPED"
    )
    paid = charged(sandbox, order_id)[item]
    content = envelope(
        "OrderAdjustment",
        adjustment(
            1,
            order_id,
            item,
            {
                "Principal": "10.00",
                "Shipping": str(paid["Shipping"]),
                "Tax": "0.50",
                "Goodwill": "1.00",
                "ReturnShipping": "2.00",
                "RestockingFee": "-1.50",
            },
        ),
        adjustment(2, order_id, item, {"Principal": "99.00"}),  # refused: no event
        adjustment(3, order_id, item, {"ShippingTax": str(paid["ShippingTax"])}),
    )

    _, report = sandbox.run("POST_PAYMENT_ADJUSTMENT_DATA", content)
    events = order_events(sandbox, order_id)
    recorded = adjustments(sandbox, order_id)

    assert (report.successful, report.with_error) == (2, 1)
    refunds = events["RefundEventList"]
    assert len(refunds) == 2 and len(events["ShipmentEventList"]) == 1
    (refunded,) = refunds[0]["ShipmentItemAdjustmentList"]
    assert refunded["OrderItemId"] == item and refunded["SellerSKU"] == "A-1"
    assert refunded["OrderAdjustmentItemId"] == recorded[0]["order_adjustment_item_id"]
    assert amounts(refunded["ItemChargeAdjustmentList"]) == {
        "Principal": Decimal("-10.00"),
        "ShippingCharge": -paid["Shipping"],
        "Tax": Decimal("-0.50"),
        "Goodwill": Decimal("-1.00"),
        "ReturnShipping": Decimal("-2.00"),
        "RestockingFee": Decimal("1.50"),  # kept back from the buyer: the seller's
    }
    assert amounts(refunded["ItemFeeAdjustmentList"], "Fee") == {
        "Commission": Decimal("1.50"),
        "RefundCommission": Decimal("-0.30"),
    }
    (withheld,) = refunded["ItemTaxWithheldList"]
    assert amounts(withheld["TaxesWithheld"]) == {
        "MarketplaceFacilitatorTax-Principal": Decimal("0.50")
    }
    (second,) = refunds[1]["ShipmentItemAdjustmentList"]
    assert amounts(second["ItemChargeAdjustmentList"]) == {"ShippingTax": -paid["ShippingTax"]}
    assert second["OrderAdjustmentItemId"] != refunded["OrderAdjustmentItemId"]
    assert [a["message_id"] for a in recorded] == [1, 3]
    assert_conforms(
        "financesV0.listFinancialEventsByOrderId",
        200,
        finances(sandbox, f"orders/{order_id}/financialEvents").json(),
    )
