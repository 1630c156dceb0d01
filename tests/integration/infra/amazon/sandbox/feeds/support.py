"""What the feed tests share: feed XML written as a seller would, a client that submits and
polls feeds, and the processing report parsed back.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import httpx

from infra.amazon.sandbox.server import SandboxHandle
from infra.amazon.sandbox.state import DEMO_SELLER

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
