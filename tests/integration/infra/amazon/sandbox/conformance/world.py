"""The conformance tests' world: a sandbox with orders of every kind, and the requests that
make each kind of answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from infra.amazon.sandbox.render import INCLUDED_DATA
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER

ALL_DATA = ",".join(INCLUDED_DATA)
EPOCH = "2020-01-01T00:00:00Z"
XML = "text/xml; charset=UTF-8"


@dataclass
class World:
    handle: SandboxHandle
    client: httpx.Client
    headers: dict[str, str]
    orders: dict[str, str] = field(default_factory=dict)  # kind -> order id


def create(client: httpx.Client, **spec: Any) -> str:
    response = client.post("/_sandbox/orders", json=spec)
    assert response.status_code == 201, response.text
    return str(response.json()["order_id"])


@contextmanager
def built_world() -> Iterator[World]:
    """A sandbox holding orders of every kind (``KINDS``), 30 bulk orders, the clock moved on."""
    with running_sandbox(rate_factor=0) as handle, httpx.Client(base_url=handle.base_url) as client:
        token = client.post(
            "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": DEMO_SELLER.refresh_token,
                "client_id": DEMO_SELLER.client_id,
                "client_secret": DEMO_SELLER.client_secret,
            },
        ).json()["access_token"]
        w = World(handle, client, {"x-amz-access-token": token})
        past = "2026-01-10T12:00:00Z"
        w.orders["mfn_unshipped"] = create(client, created_time=past)
        w.orders["pending"] = create(client, status="PENDING", created_time=past)
        w.orders["shipped_multi"] = create(
            client,
            status="SHIPPED",
            created_time=past,
            items=[
                {"sku": "A-1", "quantity": 2, "unit_price": "10.00"},
                {"sku": "B-2", "quantity": 1, "unit_price": "5.50", "title": "Thing"},
            ],
        )
        w.orders["partial"] = create(client, status="PARTIALLY_SHIPPED", created_time=past)
        w.orders["cancelled"] = create(client, status="CANCELLED", created_time=past)
        w.orders["afn_prime"] = create(
            client, fulfilled_by="AMAZON", status="SHIPPED", prime=True, created_time=past
        )
        w.orders["business_uk"] = create(
            client, business=True, marketplace_id="A1F83G8C2ARO7P", created_time=past
        )
        w.orders["replacement_de"] = create(
            client,
            marketplace_id="A1PA6795UKMFR9",
            replacement_of=w.orders["shipped_multi"],
            created_time=past,
        )
        w.orders["no_buyer"] = create(client, missing_buyer=True, created_time=past)
        w.orders["cancel_requested"] = create(client, created_time=past)
        client.post(
            f"/_sandbox/orders/{w.orders['cancel_requested']}/cancellation-request",
            json={"reason": "Found it cheaper"},
        )
        w.orders["confirmed"] = create(
            client,
            created_time=past,
            items=[
                {"sku": "C-1", "quantity": 3, "unit_price": "4.00"},
                {"sku": "C-2", "quantity": 1, "unit_price": "9.00"},
            ],
        )
        confirm_partly(w, w.orders["confirmed"])
        w.orders["seller_cancelled"] = create(
            client,
            created_time=past,
            items=[
                {"sku": "D-1", "quantity": 1, "unit_price": "4.00"},
                {"sku": "D-2", "quantity": 2, "unit_price": "9.00"},
            ],
        )
        cancel_first_item(w, w.orders["seller_cancelled"])
        refund_in_seller_central(w, w.orders["shipped_multi"])
        refund_by_feed(w, w.orders["shipped_multi"])
        w.orders["refunded_uk"] = create(
            client, status="SHIPPED", marketplace_id="A1F83G8C2ARO7P", created_time=past
        )
        refund_in_seller_central(w, w.orders["refunded_uk"])
        w.orders["shipped_de"] = create(  # its EUR group closed: a settlement report
            client, status="SHIPPED", marketplace_id="A1PA6795UKMFR9", created_time=past
        )
        closed = client.post(
            "/_sandbox/settlements/close",
            json={"seller_id": DEMO_SELLER.seller_id, "currency": "EUR"},
        )
        assert closed.status_code == 201, closed.text
        client.post("/_sandbox/orders/bulk", json={"count": 30, "seed": 7})
        handle.state.advance_clock(180)
        yield w


Request = Callable[[World], httpx.Response]


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    send: Request


def search(**params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get("/orders/2026-01-01/orders", params=params, headers=w.headers)

    return send


def search_page_two(w: World) -> httpx.Response:
    first = search(lastUpdatedAfter=EPOCH, maxResultsPerPage=5, includedData=ALL_DATA)(w)
    token = first.json()["pagination"]["nextToken"]
    return search(paginationToken=token)(w)


def get_order(kind: str | None, order_id: str = "", included: str = ALL_DATA) -> Request:
    def send(w: World) -> httpx.Response:
        oid = w.orders[kind] if kind else order_id
        return w.client.get(
            f"/orders/2026-01-01/orders/{oid}",
            params={"includedData": included} if included else {},
            headers=w.headers,
        )

    return send


def get_orders_v0(**params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get("/orders/v0/orders", params=params, headers=w.headers)

    return send


def get_orders_v0_page_two(w: World) -> httpx.Response:
    first = get_orders_v0(
        LastUpdatedAfter=EPOCH, MarketplaceIds="ATVPDKIKX0DER", MaxResultsPerPage=3
    )(w)
    return get_orders_v0(NextToken=first.json()["payload"]["NextToken"])(w)


def v0_order(kind: str | None, suffix: str = "", order_id: str = "") -> Request:
    def send(w: World) -> httpx.Response:
        oid = w.orders[kind] if kind else order_id
        return w.client.get(f"/orders/v0/orders/{oid}{suffix}", headers=w.headers)

    return send


def unauthenticated(send: Request) -> Request:
    def wrapped(w: World) -> httpx.Response:
        return send(World(w.handle, w.client, {"x-amz-access-token": "Atza|not-a-token"}, w.orders))

    return wrapped


def with_fault(operation: str, kind: str, send: Request) -> Request:
    def wrapped(w: World) -> httpx.Response:
        w.client.post("/_sandbox/faults", json={"operation": operation, "kind": kind})
        return send(w)

    return wrapped


def order_view(w: World, order_id: str) -> dict[str, Any]:
    response = w.client.get(f"/_sandbox/orders/{order_id}")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def package(w: World, order_id: str, reference: str = "1", **changes: Any) -> dict[str, Any]:
    """A confirmShipment body shipping every unit of the order in one package."""
    items = [
        {"orderItemId": i["order_item_id"], "quantity": i["quantity"]}
        for i in order_view(w, order_id)["items"]
    ]
    detail: dict[str, Any] = {
        "packageReferenceId": reference,
        "carrierCode": "UPS",
        "shippingMethod": "Ground",
        "trackingNumber": "1Z999AA10123456784",
        "shipDate": "2026-01-11T09:30:00Z",
        "orderItems": items,
    }
    detail.update(changes)
    return {"marketplaceId": "ATVPDKIKX0DER", "packageDetail": detail}


def confirm(
    kind: str | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
    twice: bool = False,
) -> Request:
    """confirmShipment for an order of ``kind`` (None: a fresh unshipped MFN order)."""

    def send(w: World) -> httpx.Response:
        order_id = w.orders[kind] if kind else create(w.client, created_time="2026-01-10T12:00:00Z")
        body = package(w, order_id)
        if edit is not None:
            edit(body)
        path = f"/orders/v0/orders/{order_id}/shipmentConfirmation"
        if twice:
            w.client.post(path, json=body, headers=w.headers)
        return w.client.post(path, json=body, headers=w.headers)

    return send


def confirm_on(order_id: str) -> Request:
    """confirmShipment with a good body for an order that does not exist."""

    def send(w: World) -> httpx.Response:
        return w.client.post(
            f"/orders/v0/orders/{order_id}/shipmentConfirmation",
            json=package(w, w.orders["mfn_unshipped"]),
            headers=w.headers,
        )

    return send


def ack(order_id: str, status: str = "Success") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header>'
        "<DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>A1SANDBOXDEMO"
        "</MerchantIdentifier></Header><MessageType>OrderAcknowledgement</MessageType>"
        f"<Message><MessageID>1</MessageID><OrderAcknowledgement><AmazonOrderID>{order_id}"
        f"</AmazonOrderID><StatusCode>{status}</StatusCode></OrderAcknowledgement></Message>"
        "</AmazonEnvelope>"
    ).encode()


def document(w: World, content: bytes | None) -> str:
    created = w.client.post(
        "/feeds/2021-06-30/documents", json={"contentType": XML}, headers=w.headers
    )
    assert created.status_code == 201, created.text
    if content is not None:
        uploaded = httpx.put(created.json()["url"], content=content, headers={"content-type": XML})
        assert uploaded.status_code == 200, uploaded.text
    return str(created.json()["feedDocumentId"])


def submit(
    w: World, feed_type: str = "POST_ORDER_ACKNOWLEDGEMENT_DATA", content: bytes | None = None
) -> str:
    document_id = document(w, content if content is not None else ack(w.orders["mfn_unshipped"]))
    response = w.client.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": feed_type,
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "inputFeedDocumentId": document_id,
        },
        headers=w.headers,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["feedId"])


def processed(w: World, **options: Any) -> str:
    feed_id = submit(w, **options)
    assert w.client.post(f"/_sandbox/feeds/{feed_id}/process").status_code == 200
    return feed_id


def create_document(body: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.post("/feeds/2021-06-30/documents", json=body, headers=w.headers)

    return send


def create_feed(**changes: Any) -> Request:
    def send(w: World) -> httpx.Response:
        body = {
            "feedType": "POST_ORDER_FULFILLMENT_DATA",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "feedOptions": {"note": "conformance"},
        }
        body.update(changes)
        if "inputFeedDocumentId" not in body:
            body["inputFeedDocumentId"] = document(w, ack(w.orders["mfn_unshipped"]))
        body = {k: v for k, v in body.items() if v is not None}
        return w.client.post("/feeds/2021-06-30/feeds", json=body, headers=w.headers)

    return send


def get_feed(make: Callable[[World], str]) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get(f"/feeds/2021-06-30/feeds/{make(w)}", headers=w.headers)

    return send


def cancel_feed(make: Callable[[World], str]) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.delete(f"/feeds/2021-06-30/feeds/{make(w)}", headers=w.headers)

    return send


def get_feeds(**params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get("/feeds/2021-06-30/feeds", params=params, headers=w.headers)

    return send


def get_feeds_page_two(w: World) -> httpx.Response:
    for _ in range(3):
        submit(w)
    first = get_feeds(feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA", pageSize=2)(w)
    return get_feeds(nextToken=first.json()["nextToken"])(w)


def result_document(gzipped: bool = False, **params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        w.client.post("/_sandbox/feed-settings", json={"gzip_results": gzipped})
        try:
            feed_id = processed(w)
        finally:
            w.client.post("/_sandbox/feed-settings", json={"gzip_results": False})
        document_id = w.handle.state.feeds[feed_id].result_document_id
        return w.client.get(
            f"/feeds/2021-06-30/documents/{document_id}", params=params, headers=w.headers
        )

    return send


def feed_document_of(document_id: str) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get(f"/feeds/2021-06-30/documents/{document_id}", headers=w.headers)

    return send


def confirm_partly(w: World, order_id: str) -> None:
    """Two units of the first item with an unlisted carrier and transparency codes."""
    first = order_view(w, order_id)["items"][0]["order_item_id"]
    body = {
        "marketplaceId": "ATVPDKIKX0DER",
        "packageDetail": {
            "packageReferenceId": "7",
            "carrierCode": "Other",
            "carrierName": "Acme Couriers",
            "trackingNumber": "ACME-0001",
            "shipDate": "2026-01-11T09:30:00Z",
            "orderItems": [
                {"orderItemId": first, "quantity": 2, "transparencyCodes": ["AZ:1", "AZ:2"]}
            ],
        },
    }
    response = w.client.post(
        f"/orders/v0/orders/{order_id}/shipmentConfirmation", json=body, headers=w.headers
    )
    assert response.status_code == 204, response.text


def cancel_first_item(w: World, order_id: str) -> None:
    """The seller cancels the first item with the acknowledgement feed."""
    first = order_view(w, order_id)["items"][0]["order_item_id"]
    content = ack(order_id, "Failure").replace(
        b"</StatusCode>",
        f"</StatusCode><Item><AmazonOrderItemCode>{first}</AmazonOrderItemCode>"
        "<CancelReason>NoInventory</CancelReason></Item>".encode(),
    )
    feed_id = processed(w, content=content)
    assert w.handle.state.feeds[feed_id].messages_successful == 1


def refund_in_seller_central(w: World, order_id: str) -> None:
    """A partial refund of the first item's principal, made by hand in Seller Central."""
    first = order_view(w, order_id)["items"][0]["order_item_id"]
    response = w.client.post(
        f"/_sandbox/orders/{order_id}/seller-central-refunds",
        json={
            "reason": "CustomerReturn",
            "items": [
                {"order_item_id": first, "components": [{"type": "Principal", "amount": "1.00"}]}
            ],
        },
    )
    assert response.status_code == 201, response.text


def refund_by_feed(w: World, order_id: str) -> None:
    """The last item's shipping and tax refunded with the payment adjustment feed."""
    last = order_view(w, order_id)["v0"]["order_items"][-1]
    item_id, tax = last["OrderItemId"], last["ItemTax"]["Amount"]
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header>'
        "<DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>A1SANDBOXDEMO"
        "</MerchantIdentifier></Header><MessageType>OrderAdjustment</MessageType>"
        f"<Message><MessageID>1</MessageID><OrderAdjustment><AmazonOrderID>{order_id}"
        f"</AmazonOrderID><AdjustedItem><AmazonOrderItemCode>{item_id}</AmazonOrderItemCode>"
        "<MerchantAdjustmentItemID>R-1</MerchantAdjustmentItemID>"
        "<AdjustmentReason>CustomerReturn</AdjustmentReason><ItemPriceAdjustments>"
        f'<Component><Type>Tax</Type><Amount currency="USD">{tax}</Amount></Component>'
        '<Component><Type>RestockingFee</Type><Amount currency="USD">-0.50</Amount></Component>'
        '<Component><Type>Principal</Type><Amount currency="USD">2.00</Amount></Component>'
        "</ItemPriceAdjustments></AdjustedItem></OrderAdjustment></Message></AmazonEnvelope>"
    ).encode()
    feed_id = processed(w, feed_type="POST_PAYMENT_ADJUSTMENT_DATA", content=content)
    assert w.handle.state.feeds[feed_id].messages_successful == 1, w.handle.state.feeds[feed_id]


def drop(name: str) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body["packageDetail"].pop(name) if name != "packageDetail" else body.pop(name)

    return edit


def set_detail(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body["packageDetail"].update(changes)

    return edit


def too_many(body: dict[str, Any]) -> None:
    body["packageDetail"]["orderItems"][0]["quantity"] += 1
