"""The sandbox's Feeds API over HTTP: documents up and down, feeds moving from IN_QUEUE to DONE,
and what the three order feeds do to orders, read back from the processing report.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER

pytestmark = pytest.mark.integration

XML = "text/xml; charset=UTF-8"
MARKETPLACE = "ATVPDKIKX0DER"
PURCHASED = "2026-01-10T12:00:00Z"
SHIPPED_AT = "2026-01-11T09:30:00Z"
FEEDS = "/feeds/2021-06-30/feeds"
DOCUMENTS = "/feeds/2021-06-30/documents"


@dataclass
class Report:
    """A parsed ProcessingReport: the summary counts and the results by MessageID."""

    transaction_id: str
    processed: int
    successful: int
    with_error: int
    with_warning: int
    results: dict[int, dict[str, str]]


def parse_report(content: bytes) -> Report:
    root = ET.fromstring(content)
    assert root.tag == "AmazonEnvelope"
    assert root.findtext("MessageType") == "ProcessingReport"
    report = root.find("Message/ProcessingReport")
    assert report is not None
    assert report.findtext("StatusCode") == "Complete"
    summary = report.find("ProcessingSummary")
    assert summary is not None
    results: dict[int, dict[str, str]] = {}
    for result in report.findall("Result"):
        message_id = int(result.findtext("MessageID") or "-1")
        assert message_id not in results
        results[message_id] = {
            "code": result.findtext("ResultCode") or "",
            "message_code": result.findtext("ResultMessageCode") or "",
            "description": result.findtext("ResultDescription") or "",
            "order_id": result.findtext("AdditionalInfo/AmazonOrderID") or "",
        }
    return Report(
        transaction_id=report.findtext("DocumentTransactionID") or "",
        processed=int(summary.findtext("MessagesProcessed") or "-1"),
        successful=int(summary.findtext("MessagesSuccessful") or "-1"),
        with_error=int(summary.findtext("MessagesWithError") or "-1"),
        with_warning=int(summary.findtext("MessagesWithWarning") or "-1"),
        results=results,
    )


def envelope(message_type: str, *messages: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">'
        "<Header><DocumentVersion>1.01</DocumentVersion>"
        f"<MerchantIdentifier>{DEMO_SELLER.seller_id}</MerchantIdentifier></Header>"
        f"<MessageType>{message_type}</MessageType>{''.join(messages)}</AmazonEnvelope>"
    ).encode()


def fulfilment(
    message_id: int | str,
    order_id: str,
    *,
    reference: str | None = None,
    date: str = SHIPPED_AT,
    carrier: str = "<CarrierCode>UPS</CarrierCode>",
    tracking: str = "1Z999AA10123456784",
    items: tuple[tuple[str, int | None], ...] = (),
) -> str:
    lines = "".join(
        f"<Item><AmazonOrderItemCode>{item}</AmazonOrderItemCode>"
        + (f"<Quantity>{quantity}</Quantity>" if quantity is not None else "")
        + "</Item>"
        for item, quantity in items
    )
    merchant = f"<MerchantFulfillmentID>{reference}</MerchantFulfillmentID>" if reference else ""
    return (
        f"<Message><MessageID>{message_id}</MessageID><OperationType>Update</OperationType>"
        f"<OrderFulfillment><AmazonOrderID>{order_id}</AmazonOrderID>{merchant}"
        f"<FulfillmentDate>{date}</FulfillmentDate><FulfillmentData>{carrier}"
        "<ShippingMethod>Ground</ShippingMethod>"
        f"<ShipperTrackingNumber>{tracking}</ShipperTrackingNumber></FulfillmentData>"
        f"{lines}</OrderFulfillment></Message>"
    )


def acknowledgement(
    message_id: int, order_id: str, status: str = "Failure", items: tuple[str, ...] = ()
) -> str:
    lines = "".join(
        f"<Item><AmazonOrderItemCode>{item}</AmazonOrderItemCode>"
        "<CancelReason>NoInventory</CancelReason></Item>"
        for item in items
    )
    return (
        f"<Message><MessageID>{message_id}</MessageID><OrderAcknowledgement>"
        f"<AmazonOrderID>{order_id}</AmazonOrderID><StatusCode>{status}</StatusCode>{lines}"
        "</OrderAcknowledgement></Message>"
    )


def adjustment(
    message_id: int,
    order_id: str,
    item: str,
    components: dict[str, str],
    *,
    reason: str | None = "CustomerReturn",
    currency: str = "USD",
    cancelled: int | None = None,
) -> str:
    parts = "".join(
        f'<Component><Type>{kind}</Type><Amount currency="{currency}">{amount}</Amount></Component>'
        for kind, amount in components.items()
    )
    why = f"<AdjustmentReason>{reason}</AdjustmentReason>" if reason else ""
    quantity = f"<QuantityCancelled>{cancelled}</QuantityCancelled>" if cancelled else ""
    return (
        f"<Message><MessageID>{message_id}</MessageID><OrderAdjustment>"
        f"<AmazonOrderID>{order_id}</AmazonOrderID><AdjustedItem>"
        f"<AmazonOrderItemCode>{item}</AmazonOrderItemCode>"
        f"<MerchantAdjustmentItemID>R-{message_id}</MerchantAdjustmentItemID>{why}"
        f"<ItemPriceAdjustments>{parts}</ItemPriceAdjustments>{quantity}"
        "</AdjustedItem></OrderAdjustment></Message>"
    )


class Sandbox:
    def __init__(self, handle: SandboxHandle, client: httpx.Client) -> None:
        self.handle = handle
        self.client = client
        self.headers: dict[str, str] = {}
        self.log_in()

    def log_in(self) -> None:
        """A fresh access token (one lasts an hour of sandbox time)."""
        token = self.client.post(
            "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": DEMO_SELLER.refresh_token,
                "client_id": DEMO_SELLER.client_id,
                "client_secret": DEMO_SELLER.client_secret,
            },
        ).json()["access_token"]
        self.headers = {"x-amz-access-token": token}

    def order(self, **spec: Any) -> tuple[str, list[str]]:
        spec.setdefault("created_time", PURCHASED)
        response = self.client.post("/_sandbox/orders", json=spec)
        assert response.status_code == 201, response.text
        order_id = str(response.json()["order_id"])
        return order_id, [i["order_item_id"] for i in self.view(order_id)["items"]]

    def view(self, order_id: str) -> dict[str, Any]:
        response = self.client.get(f"/_sandbox/orders/{order_id}")
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()
        return view

    def document(self, content: bytes | None, content_type: str = XML) -> tuple[str, str]:
        response = self.client.post(
            DOCUMENTS, json={"contentType": content_type}, headers=self.headers
        )
        assert response.status_code == 201, response.text
        document_id, url = response.json()["feedDocumentId"], response.json()["url"]
        if content is not None:
            uploaded = httpx.put(url, content=content, headers={"content-type": content_type})
            assert uploaded.status_code == 200, uploaded.text
        return str(document_id), str(url)

    def submit(self, feed_type: str, content: bytes | None) -> str:
        document_id, _ = self.document(content)
        response = self.client.post(
            FEEDS,
            json={
                "feedType": feed_type,
                "marketplaceIds": [MARKETPLACE],
                "inputFeedDocumentId": document_id,
            },
            headers=self.headers,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["feedId"])

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        response = self.client.get(f"{FEEDS}/{feed_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        feed: dict[str, Any] = response.json()
        return feed

    def run(self, feed_type: str, content: bytes | None) -> tuple[dict[str, Any], Report]:
        """Submit, poll until finished (three getFeed calls), fetch and parse the report."""
        feed_id = self.submit(feed_type, content)
        statuses = [self.get_feed(feed_id)["processingStatus"] for _ in range(3)]
        assert statuses[:2] == ["IN_QUEUE", "IN_PROGRESS"]
        feed = self.get_feed(feed_id)
        assert feed["processingStatus"] == statuses[2]
        return feed, self.report(feed)

    def report(self, feed: dict[str, Any]) -> Report:
        document = self.client.get(
            f"{DOCUMENTS}/{feed['resultFeedDocumentId']}", headers=self.headers
        )
        assert document.status_code == 200, document.text
        assert "compressionAlgorithm" not in document.json()
        downloaded = httpx.get(document.json()["url"])
        assert downloaded.status_code == 200
        assert downloaded.headers["content-type"].startswith("text/xml")
        return parse_report(downloaded.content)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox(rate_factor=0) as handle, httpx.Client(base_url=handle.base_url) as client:
        yield Sandbox(handle, client)


# -- the flow ----------------------------------------------------------------------------------


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


# -- acknowledgement (cancel) ------------------------------------------------------------------


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


# -- payment adjustment (refunds) --------------------------------------------------------------


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


# -- documents that are not what they should be ------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"<AmazonEnvelope><Message>", "5000", "XML Parsing Error"),
        (b"\xff\xfe not xml at all", "5000", "XML Parsing Error"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><AmazonEnvelope/>',
            "5000",
            "DOCTYPE",
        ),
        (b"<Envelope/>", "5001", "AmazonEnvelope"),
        (envelope("OrderAdjustment", acknowledgement(1, "1")), "5001", "MessageType"),
        (envelope("OrderFulfillment"), "5001", "no Message"),
        (
            b"<AmazonEnvelope><MessageType>OrderFulfillment</MessageType></AmazonEnvelope>",
            "5001",
            "MerchantIdentifier",
        ),
    ],
    ids=["unclosed", "binary", "doctype", "root", "message type", "no messages", "no header"],
)
def test_an_unusable_document_is_done_with_one_error_for_message_zero(
    sandbox: Sandbox, content: bytes, code: str, words: str
) -> None:
    feed, report = sandbox.run("POST_ORDER_FULFILLMENT_DATA", content)

    assert feed["processingStatus"] == "DONE"
    assert (report.processed, report.successful, report.with_error) == (0, 0, 0)
    (result,) = report.results.values()
    assert report.results[0]["message_code"] == code
    assert result["code"] == "Error"
    assert words in result["description"]


def test_an_unknown_feed_type_or_a_missing_upload_is_fatal(sandbox: Sandbox) -> None:
    order_id, _ = sandbox.order()
    unknown, unknown_report = sandbox.run(
        "POST_PRODUCT_DATA", envelope("OrderFulfillment", fulfilment(1, order_id))
    )
    never_uploaded, _ = sandbox.run("POST_ORDER_FULFILLMENT_DATA", None)

    assert unknown["processingStatus"] == "FATAL"
    assert unknown_report.results[0]["message_code"] == "90000"
    assert never_uploaded["processingStatus"] == "FATAL"
    assert sandbox.view(order_id)["status"] == "UNSHIPPED"


# -- progression, cancel, listing --------------------------------------------------------------


def test_sandbox_time_moves_a_feed_on_without_polling(sandbox: Sandbox) -> None:
    order_id, _ = sandbox.order()
    feed_id = sandbox.submit(
        "POST_ORDER_FULFILLMENT_DATA", envelope("OrderFulfillment", fulfilment(1, order_id))
    )
    listing = {"feedTypes": "POST_ORDER_FULFILLMENT_DATA"}

    def listed_status() -> str:
        response = sandbox.client.get(FEEDS, params=listing, headers=sandbox.headers)
        return str(response.json()["feeds"][0]["processingStatus"])

    assert listed_status() == "IN_QUEUE"
    sandbox.handle.state.advance_clock(30)
    assert listed_status() == "IN_PROGRESS"
    assert sandbox.view(order_id)["status"] == "UNSHIPPED"
    sandbox.handle.state.advance_clock(30)
    assert listed_status() == "DONE"
    assert sandbox.view(order_id)["status"] == "SHIPPED"
    assert sandbox.client.get(f"/_sandbox/feeds/{feed_id}").json()["polls"] == 0


def test_only_a_queued_feed_can_be_cancelled_and_it_then_applies_nothing(
    sandbox: Sandbox,
) -> None:
    order_id, _ = sandbox.order()
    content = envelope("OrderAcknowledgement", acknowledgement(1, order_id))
    feed_id = sandbox.submit("POST_ORDER_ACKNOWLEDGEMENT_DATA", content)
    running_id = sandbox.submit("POST_ORDER_ACKNOWLEDGEMENT_DATA", content)
    sandbox.get_feed(running_id)
    sandbox.get_feed(running_id)  # now IN_PROGRESS

    cancelled = sandbox.client.delete(f"{FEEDS}/{feed_id}", headers=sandbox.headers)
    refused = sandbox.client.delete(f"{FEEDS}/{running_id}", headers=sandbox.headers)
    unknown = sandbox.client.delete(f"{FEEDS}/12345", headers=sandbox.headers)

    assert cancelled.status_code == 200 and cancelled.content == b""
    assert refused.status_code == 400
    assert "IN_PROGRESS" in refused.json()["errors"][0]["message"]
    assert unknown.status_code == 404
    sandbox.handle.state.advance_clock(120)
    feed = sandbox.get_feed(feed_id)
    assert feed["processingStatus"] == "CANCELLED" and "resultFeedDocumentId" not in feed
    assert sandbox.get_feed(running_id)["processingStatus"] == "DONE"
    again = sandbox.client.delete(f"{FEEDS}/{feed_id}", headers=sandbox.headers)
    assert again.status_code == 400


def test_get_feeds_filters_pages_and_wants_next_token_alone(sandbox: Sandbox) -> None:
    content = envelope("OrderAcknowledgement", acknowledgement(1, "999-9999999-9999999"))
    ids = [sandbox.submit("POST_ORDER_ACKNOWLEDGEMENT_DATA", content) for _ in range(5)]
    other = sandbox.submit("POST_ORDER_FULFILLMENT_DATA", content)
    sandbox.client.post(f"/_sandbox/feeds/{ids[0]}/process")

    def page(**params: Any) -> dict[str, Any]:
        response = sandbox.client.get(FEEDS, params=params, headers=sandbox.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    seen: list[str] = []
    body = page(feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA", pageSize=2)
    while True:
        seen.extend(f["feedId"] for f in body["feeds"])
        if "nextToken" not in body:
            break
        body = page(nextToken=body["nextToken"])
    done = page(feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA", processingStatuses="DONE")
    both = page(feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA,POST_ORDER_FULFILLMENT_DATA")
    past = page(
        feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA",
        createdSince="2020-01-01T00:00:00Z",
        createdUntil="2020-01-02T00:00:00Z",
    )

    assert seen == list(reversed(ids))  # newest first, every feed once
    assert [f["feedId"] for f in done["feeds"]] == [ids[0]]
    assert other in {f["feedId"] for f in both["feeds"]}
    assert past["feeds"] == []
    mixed = sandbox.client.get(
        FEEDS,
        params={"nextToken": "abc", "feedTypes": "POST_ORDER_ACKNOWLEDGEMENT_DATA"},
        headers=sandbox.headers,
    )
    assert mixed.status_code == 400 and "only parameter" in mixed.json()["errors"][0]["message"]
    missing = sandbox.client.get(FEEDS, params={"pageSize": 5}, headers=sandbox.headers)
    assert missing.status_code == 400
    listed = sandbox.client.get("/_sandbox/feeds").json()["feeds"]
    assert len(listed) == 6 and listed[0]["feedId"] == other


def test_a_feed_of_another_seller_does_not_exist(sandbox: Sandbox) -> None:
    sandbox.client.post(
        "/_sandbox/sellers",
        json={
            "seller_id": "A2OTHERSELLER",
            "refresh_token": "Atzr|other",
            "client_id": "amzn1.application-oa2-client.other",
            "client_secret": "other-secret",
            "marketplace_ids": [MARKETPLACE],
        },
    )
    token = sandbox.client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "Atzr|other",
            "client_id": "amzn1.application-oa2-client.other",
            "client_secret": "other-secret",
        },
    ).json()["access_token"]
    other = {"x-amz-access-token": token}
    document_id, _ = sandbox.document(b"<AmazonEnvelope/>")
    feed_id = sandbox.submit("POST_ORDER_FULFILLMENT_DATA", b"<AmazonEnvelope/>")

    assert sandbox.client.get(f"{FEEDS}/{feed_id}", headers=other).status_code == 404
    assert sandbox.client.get(f"{DOCUMENTS}/{document_id}", headers=other).status_code == 404
    foreign = sandbox.client.post(
        FEEDS,
        json={
            "feedType": "POST_ORDER_FULFILLMENT_DATA",
            "marketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": document_id,
        },
        headers=other,
    )
    assert foreign.status_code == 400


# -- the document URLs -------------------------------------------------------------------------


def test_uploads_check_content_type_and_expiry_and_need_no_token(sandbox: Sandbox) -> None:
    document_id, url = sandbox.document(None)

    wrong_type = httpx.put(url, content=b"<a/>", headers={"content-type": "application/xml"})
    same_type = httpx.put(url, content=b"<a/>", headers={"content-type": "text/xml;charset=utf-8"})
    unknown = httpx.put(
        url.replace(document_id, "amzn1.tortuga.4.na.nothing"),
        content=b"<a/>",
        headers={"content-type": XML},
    )
    sandbox.handle.state.advance_clock(301)
    expired = httpx.put(url, content=b"<a/>", headers={"content-type": XML})

    assert wrong_type.status_code == 400 and "Content-Type" in wrong_type.json()["error"]
    assert same_type.status_code == 200  # case and blanks aside, the declared type
    assert unknown.status_code == 404
    assert expired.status_code == 403
    # The document was uploaded before the URL expired and can still be used (2 days).
    created = sandbox.client.post(
        FEEDS,
        json={
            "feedType": "POST_ORDER_FULFILLMENT_DATA",
            "marketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": document_id,
        },
        headers=sandbox.headers,
    )
    assert created.status_code == 202
    sandbox.handle.state.advance_clock(2 * 86400)
    sandbox.log_in()
    stale = sandbox.client.post(
        FEEDS,
        json={
            "feedType": "POST_ORDER_FULFILLMENT_DATA",
            "marketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": document_id,
        },
        headers=sandbox.headers,
    )
    assert stale.status_code == 400 and "expired" in stale.json()["errors"][0]["message"]


def test_create_feed_refuses_an_unknown_document_and_bad_bodies(sandbox: Sandbox) -> None:
    def create(body: Any) -> httpx.Response:
        return sandbox.client.post(FEEDS, json=body, headers=sandbox.headers)

    document_id, _ = sandbox.document(b"<a/>")
    good = {
        "feedType": "POST_ORDER_FULFILLMENT_DATA",
        "marketplaceIds": [MARKETPLACE],
        "inputFeedDocumentId": document_id,
    }
    cases = {
        "inputFeedDocumentId": dict(good, inputFeedDocumentId="nope"),
        "feedType": {k: v for k, v in good.items() if k != "feedType"},
        "marketplaceIds": dict(good, marketplaceIds=[]),
        "feedOptions": dict(good, feedOptions={"a": 1}),
    }
    for field, body in cases.items():
        response = create(body)
        assert response.status_code == 400, field
        assert field in response.json()["errors"][0]["message"]
    no_content_type = sandbox.client.post(DOCUMENTS, json={}, headers=sandbox.headers)
    assert no_content_type.status_code == 400
    assert "contentType" in no_content_type.json()["errors"][0]["message"]


def test_gzipped_reports_are_announced_and_can_be_served_with_content_encoding(
    sandbox: Sandbox,
) -> None:
    sandbox.client.post("/_sandbox/feed-settings", json={"gzip_results": True})
    order_id, _ = sandbox.order()
    feed_id = sandbox.submit(
        "POST_ORDER_FULFILLMENT_DATA", envelope("OrderFulfillment", fulfilment(1, order_id))
    )
    feed = sandbox.client.post(f"/_sandbox/feeds/{feed_id}/process").json()["feed"]
    path = f"{DOCUMENTS}/{feed['resultFeedDocumentId']}"

    plain = sandbox.client.get(path, headers=sandbox.headers).json()
    encoded = sandbox.client.get(
        path, params={"enableContentEncodingUrlHeader": "true"}, headers=sandbox.headers
    ).json()
    raw = httpx.get(plain["url"])
    decoded = httpx.get(encoded["url"])

    assert plain["compressionAlgorithm"] == encoded["compressionAlgorithm"] == "GZIP"
    assert raw.content[:2] == b"\x1f\x8b"
    assert parse_report(gzip.decompress(raw.content)).successful == 1
    assert decoded.headers["content-encoding"] == "gzip"
    assert parse_report(decoded.content).successful == 1  # httpx undid the encoding
    sandbox.handle.state.advance_clock(301)
    assert httpx.get(plain["url"]).status_code == 403  # download URLs live five minutes


# -- faults and rate limits --------------------------------------------------------------------


def test_a_lost_create_feed_response_still_queues_the_feed_once(sandbox: Sandbox) -> None:
    document_id, _ = sandbox.document(b"<AmazonEnvelope/>")
    sandbox.client.post(
        "/_sandbox/faults", json={"operation": "feeds.createFeed", "kind": "lose_response"}
    )

    with pytest.raises(httpx.RemoteProtocolError):
        sandbox.client.post(
            FEEDS,
            json={
                "feedType": "POST_ORDER_FULFILLMENT_DATA",
                "marketplaceIds": [MARKETPLACE],
                "inputFeedDocumentId": document_id,
            },
            headers=sandbox.headers,
        )

    listed = sandbox.client.get(
        FEEDS, params={"feedTypes": "POST_ORDER_FULFILLMENT_DATA"}, headers=sandbox.headers
    ).json()["feeds"]
    assert len(listed) == 1


def test_a_lost_cancel_feed_response_is_applied_and_a_server_error_is_not(
    sandbox: Sandbox,
) -> None:
    content = envelope("OrderAcknowledgement", acknowledgement(1, "999-9999999-9999999"))
    lost = sandbox.submit("POST_ORDER_ACKNOWLEDGEMENT_DATA", content)
    failed = sandbox.submit("POST_ORDER_ACKNOWLEDGEMENT_DATA", content)
    for kind in ("lose_response", "500"):
        sandbox.client.post(
            "/_sandbox/faults", json={"operation": "feeds.cancelFeed", "kind": kind}
        )

    with pytest.raises(httpx.RemoteProtocolError):
        sandbox.client.delete(f"{FEEDS}/{lost}", headers=sandbox.headers)
    assert sandbox.client.delete(f"{FEEDS}/{failed}", headers=sandbox.headers).status_code == 500

    assert sandbox.get_feed(lost)["processingStatus"] == "CANCELLED"
    assert sandbox.get_feed(failed)["processingStatus"] == "IN_QUEUE"


def test_feed_operations_go_through_their_rate_buckets() -> None:
    """getFeedDocument: Amazon's plan is 0.0222/s with a burst of 10."""
    with running_sandbox() as handle, httpx.Client(base_url=handle.base_url) as client:
        sandbox = Sandbox(handle, client)
        document_id, _ = sandbox.document(b"<a/>")
        statuses = [
            client.get(f"{DOCUMENTS}/{document_id}", headers=sandbox.headers).status_code
            for _ in range(11)
        ]
        throttled = client.get(f"{DOCUMENTS}/{document_id}", headers=sandbox.headers)
        # The upload URL is not an SP-API operation: no bucket, no token.
        uploads = {
            httpx.put(
                client.post(DOCUMENTS, json={"contentType": XML}, headers=sandbox.headers).json()[
                    "url"
                ],
                content=b"<a/>",
                headers={"content-type": XML},
            ).status_code
            for _ in range(3)
        }

    assert statuses == [200] * 10 + [429]
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    assert uploads == {200}
