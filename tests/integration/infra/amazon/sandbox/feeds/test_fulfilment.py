"""POST_ORDER_FULFILLMENT_DATA over HTTP: packages shipped when the feed is done, edited by a
resent MerchantFulfillmentID, and messages that fail one by one.
"""

from __future__ import annotations

import pytest

from tests.integration.infra.amazon.sandbox.feeds.support import (
    MARKETPLACE,
    SHIPPED_AT,
    Sandbox,
    envelope,
    fulfilment,
)

pytestmark = pytest.mark.integration


def test_a_fulfilment_feed_ships_orders_when_it_is_done(sandbox: Sandbox) -> None:
    whole, _ = sandbox.order(
        items=[
            {"sku": "A-1", "quantity": 2, "unit_price": "10.00"},
            {"sku": "B-2", "quantity": 1, "unit_price": "5.00"},
        ]
    )
    partial, (partial_item,) = sandbox.order(
        items=[{"sku": "C-3", "quantity": 3, "unit_price": "7.00"}]
    )
    content = envelope(
        "OrderFulfillment",
        fulfilment(1, whole),  # no Item: every unit of the order
        fulfilment(2, partial, reference="3", items=((partial_item, 2),)),
    )
    feed_id = sandbox.submit("POST_ORDER_FULFILLMENT_DATA", content)

    queued = sandbox.get_feed(feed_id)
    running = sandbox.get_feed(feed_id)
    assert queued["processingStatus"] == "IN_QUEUE" and "processingStartTime" not in queued
    assert running["processingStatus"] == "IN_PROGRESS" and running["processingStartTime"]
    assert sandbox.view(whole)["status"] == "UNSHIPPED"  # nothing applied before it is done
    done = sandbox.get_feed(feed_id)

    assert done["processingStatus"] == "DONE"
    assert done["processingEndTime"] and done["resultFeedDocumentId"]
    assert done["feedType"] == "POST_ORDER_FULFILLMENT_DATA"
    assert done["marketplaceIds"] == [MARKETPLACE]
    report = sandbox.report(done)
    assert report.transaction_id == feed_id
    assert (report.processed, report.successful, report.with_error) == (2, 2, 0)
    assert report.results == {}
    shipped = sandbox.view(whole)
    assert shipped["status"] == "SHIPPED"
    assert shipped["packages"][0]["package_reference_id"] == "1"
    assert shipped["packages"][0]["ship_time"] == SHIPPED_AT
    halfway = sandbox.view(partial)
    assert halfway["status"] == "PARTIALLY_SHIPPED"
    assert halfway["packages"][0]["package_reference_id"] == "3"
    assert halfway["items"][0]["quantity_shipped"] == 2
    # The control view tells what each message did.
    view = sandbox.client.get(f"/_sandbox/feeds/{feed_id}").json()
    assert [m["result"] for m in view["messages"]] == ["Success", "Success"]
    assert view["document"] == content.decode()


def test_a_resent_merchant_fulfillment_id_edits_the_package(sandbox: Sandbox) -> None:
    order_id, (item,) = sandbox.order(items=[{"sku": "A-1", "quantity": 3, "unit_price": "1.00"}])
    first = envelope("OrderFulfillment", fulfilment(1, order_id, reference="9", items=((item, 1),)))
    again = envelope(
        "OrderFulfillment",
        fulfilment(1, order_id, reference="9", tracking="NEW-TRACK", items=((item, None),)),
    )

    sandbox.run("POST_ORDER_FULFILLMENT_DATA", first)
    _, report = sandbox.run("POST_ORDER_FULFILLMENT_DATA", again)

    assert report.successful == 1
    view = sandbox.view(order_id)
    (package,) = view["packages"]
    assert package["tracking_number"] == "NEW-TRACK"
    assert package["items"] == [{"order_item_id": item, "quantity": 3}]  # every unit, recomputed
    assert view["status"] == "SHIPPED"
    # confirmShipment with the same reference edits the same package too.
    response = sandbox.client.post(
        f"/orders/v0/orders/{order_id}/shipmentConfirmation",
        json={
            "marketplaceId": MARKETPLACE,
            "packageDetail": {
                "packageReferenceId": "9",
                "carrierCode": "USPS",
                "trackingNumber": "9400",
                "shipDate": SHIPPED_AT,
                "orderItems": [{"orderItemId": item, "quantity": 1}],
            },
        },
        headers=sandbox.headers,
    )
    assert response.status_code == 204
    assert [p["carrier"] for p in sandbox.view(order_id)["packages"]] == ["USPS"]


def test_a_feed_can_be_done_with_every_message_failed(sandbox: Sandbox) -> None:
    good, (item,) = sandbox.order(items=[{"sku": "A-1", "quantity": 1, "unit_price": "1.00"}])
    afn, _ = sandbox.order(fulfilled_by="AMAZON")
    cancelled, _ = sandbox.order(status="CANCELLED")
    content = envelope(
        "OrderFulfillment",
        fulfilment(1, "999-9999999-9999999"),
        fulfilment(2, afn),
        fulfilment(3, cancelled),
        fulfilment(4, good, date="yesterday"),
        fulfilment(5, good, items=(("00000000000000", 1),)),
        fulfilment(6, good, items=((item, 2),)),
        fulfilment(7, good, carrier=""),
        fulfilment(8, good, carrier="<CarrierCode>Other</CarrierCode>"),
        fulfilment(9, good, reference="PKG"),
        fulfilment(10, good, date="2026-01-01T00:00:00Z"),
        fulfilment("x", good),
    )

    feed, report = sandbox.run("POST_ORDER_FULFILLMENT_DATA", content)

    assert feed["processingStatus"] == "DONE"
    assert (report.processed, report.successful, report.with_error) == (11, 0, 11)
    assert set(report.results) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0}
    assert all(r["code"] == "Error" for r in report.results.values())
    codes = {mid: r["message_code"] for mid, r in report.results.items()}
    assert codes[1] == "18000" and codes[2] == "18001" and codes[3] == "18001"
    assert codes[0] == "5001"  # MessageID "x": not a positive integer, echoed as 0
    described = {mid: r["description"] for mid, r in report.results.items()}
    assert "FulfillmentDate" in described[4]
    assert "AmazonOrderItemCode" in described[5]
    assert "quantity" in described[6]
    assert "CarrierCode" in described[7]
    assert "CarrierName" in described[8]
    assert "MerchantFulfillmentID" in described[9]
    assert "before the order's purchase" in described[10]
    assert report.results[2]["order_id"] == afn
    assert report.results[1]["order_id"] == "999-9999999-9999999"
    assert sandbox.view(good)["packages"] == []


def test_duplicate_message_ids_fail_the_later_message(sandbox: Sandbox) -> None:
    one, _ = sandbox.order()
    two, _ = sandbox.order()
    content = envelope("OrderFulfillment", fulfilment(1, one), fulfilment(1, two))

    _, report = sandbox.run("POST_ORDER_FULFILLMENT_DATA", content)

    assert (report.successful, report.with_error) == (1, 1)
    assert "MessageID 1" in report.results[1]["description"]
    assert sandbox.view(one)["status"] == "SHIPPED"
    assert sandbox.view(two)["status"] == "UNSHIPPED"
