"""Every kind of sandbox answer validates against Amazon's own model definitions.

Schemas are never typed here: each response is checked against the schema the model declares
for that operation and status, with ``#/definitions/...`` resolved inside the loaded model.
Validation is strict: every object schema of the model is given ``additionalProperties:
false`` (a programmatic copy), so a misspelt or invented field fails, not only a missing one.
Amazon's own sandbox examples pass the same strict check, which shows the validator accepts
what Amazon sends. A served operation without a case here fails the registry test.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from infra.amazon.models import load_model, operations
from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from infra.amazon.sandbox.render import INCLUDED_DATA
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER

pytestmark = pytest.mark.integration

SANDBOX_MODELS = ("orders2026", "ordersV0", "feeds")
ALL_DATA = ",".join(INCLUDED_DATA)
EPOCH = "2020-01-01T00:00:00Z"

_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.tzinfo is not None
    return True


def _closed(node: Any) -> Any:
    """A copy of a model where every object schema with properties forbids other properties."""
    if isinstance(node, dict):
        closed = {k: _closed(v) for k, v in node.items()}
        if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
            closed["additionalProperties"] = False
        return closed
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


def _registry() -> Registry:
    registry: Registry = Registry()
    for name in SANDBOX_MODELS:
        contents = _closed(copy.deepcopy(load_model(name)))
        resource = Resource.from_contents(contents, default_specification=DRAFT4)
        registry = registry.with_resource(f"urn:spapi:{name}", resource)
    return registry


STRICT = _registry()


def declares_body(operation_key: str, status: int) -> bool:
    """False for answers the model gives no schema (confirmShipment's 204, cancelFeed's 200)."""
    return "schema" in operations()[operation_key].spec["responses"][str(status)]


def response_schema(operation_key: str, status: int) -> dict[str, Any]:
    """The model's schema for this operation's response, as a ref into the loaded model."""
    op = operations()[operation_key]
    declared = op.spec["responses"][str(status)]["schema"]
    ref = declared["$ref"]
    assert ref.startswith("#/definitions/"), ref
    return {"$ref": f"urn:spapi:{op.model}{ref}"}


def assert_conforms(operation_key: str, status: int, body: Any) -> None:
    validator = Draft4Validator(
        response_schema(operation_key, status), registry=STRICT, format_checker=_formats
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]
    )


# -- the sandbox and a world of orders of every kind ------------------------------------------


@dataclass
class World:
    handle: SandboxHandle
    client: httpx.Client
    headers: dict[str, str]
    orders: dict[str, str] = field(default_factory=dict)  # kind -> order id


def _create(client: httpx.Client, **spec: Any) -> str:
    response = client.post("/_sandbox/orders", json=spec)
    assert response.status_code == 201, response.text
    return str(response.json()["order_id"])


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
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
        w.orders["mfn_unshipped"] = _create(client, created_time=past)
        w.orders["pending"] = _create(client, status="PENDING", created_time=past)
        w.orders["shipped_multi"] = _create(
            client,
            status="SHIPPED",
            created_time=past,
            items=[
                {"sku": "A-1", "quantity": 2, "unit_price": "10.00"},
                {"sku": "B-2", "quantity": 1, "unit_price": "5.50", "title": "Thing"},
            ],
        )
        w.orders["partial"] = _create(client, status="PARTIALLY_SHIPPED", created_time=past)
        w.orders["cancelled"] = _create(client, status="CANCELLED", created_time=past)
        w.orders["afn_prime"] = _create(
            client, fulfilled_by="AMAZON", status="SHIPPED", prime=True, created_time=past
        )
        w.orders["business_uk"] = _create(
            client, business=True, marketplace_id="A1F83G8C2ARO7P", created_time=past
        )
        w.orders["replacement_de"] = _create(
            client,
            marketplace_id="A1PA6795UKMFR9",
            replacement_of=w.orders["shipped_multi"],
            created_time=past,
        )
        w.orders["no_buyer"] = _create(client, missing_buyer=True, created_time=past)
        w.orders["cancel_requested"] = _create(client, created_time=past)
        client.post(
            f"/_sandbox/orders/{w.orders['cancel_requested']}/cancellation-request",
            json={"reason": "Found it cheaper"},
        )
        w.orders["confirmed"] = _create(
            client,
            created_time=past,
            items=[
                {"sku": "C-1", "quantity": 3, "unit_price": "4.00"},
                {"sku": "C-2", "quantity": 1, "unit_price": "9.00"},
            ],
        )
        _confirm_partly(w, w.orders["confirmed"])
        w.orders["seller_cancelled"] = _create(
            client,
            created_time=past,
            items=[
                {"sku": "D-1", "quantity": 1, "unit_price": "4.00"},
                {"sku": "D-2", "quantity": 2, "unit_price": "9.00"},
            ],
        )
        _cancel_first_item(w, w.orders["seller_cancelled"])
        client.post("/_sandbox/orders/bulk", json={"count": 30, "seed": 7})
        handle.state.advance_clock(180)
        yield w


# -- cases ------------------------------------------------------------------------------------

Request = Callable[[World], httpx.Response]


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    send: Request


def _search(**params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get("/orders/2026-01-01/orders", params=params, headers=w.headers)

    return send


def _search_page_two(w: World) -> httpx.Response:
    first = _search(lastUpdatedAfter=EPOCH, maxResultsPerPage=5, includedData=ALL_DATA)(w)
    token = first.json()["pagination"]["nextToken"]
    return _search(paginationToken=token)(w)


def _get_order(kind: str | None, order_id: str = "", included: str = ALL_DATA) -> Request:
    def send(w: World) -> httpx.Response:
        oid = w.orders[kind] if kind else order_id
        return w.client.get(
            f"/orders/2026-01-01/orders/{oid}",
            params={"includedData": included} if included else {},
            headers=w.headers,
        )

    return send


def _get_orders_v0(**params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get("/orders/v0/orders", params=params, headers=w.headers)

    return send


def _get_orders_v0_page_two(w: World) -> httpx.Response:
    first = _get_orders_v0(
        LastUpdatedAfter=EPOCH, MarketplaceIds="ATVPDKIKX0DER", MaxResultsPerPage=3
    )(w)
    return _get_orders_v0(NextToken=first.json()["payload"]["NextToken"])(w)


def _v0_order(kind: str | None, suffix: str = "", order_id: str = "") -> Request:
    def send(w: World) -> httpx.Response:
        oid = w.orders[kind] if kind else order_id
        return w.client.get(f"/orders/v0/orders/{oid}{suffix}", headers=w.headers)

    return send


def _unauthenticated(send: Request) -> Request:
    def wrapped(w: World) -> httpx.Response:
        return send(World(w.handle, w.client, {"x-amz-access-token": "Atza|not-a-token"}, w.orders))

    return wrapped


def _with_fault(operation: str, kind: str, send: Request) -> Request:
    def wrapped(w: World) -> httpx.Response:
        w.client.post("/_sandbox/faults", json={"operation": operation, "kind": kind})
        return send(w)

    return wrapped


# -- confirmShipment and the Feeds API ---------------------------------------------------------

XML = "text/xml; charset=UTF-8"


def _order_view(w: World, order_id: str) -> dict[str, Any]:
    response = w.client.get(f"/_sandbox/orders/{order_id}")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def _package(w: World, order_id: str, reference: str = "1", **changes: Any) -> dict[str, Any]:
    """A confirmShipment body shipping every unit of the order in one package."""
    items = [
        {"orderItemId": i["order_item_id"], "quantity": i["quantity"]}
        for i in _order_view(w, order_id)["items"]
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


def _confirm(
    kind: str | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
    twice: bool = False,
) -> Request:
    """confirmShipment for an order of ``kind`` (None: a fresh unshipped MFN order)."""

    def send(w: World) -> httpx.Response:
        order_id = (
            w.orders[kind] if kind else _create(w.client, created_time="2026-01-10T12:00:00Z")
        )
        body = _package(w, order_id)
        if edit is not None:
            edit(body)
        path = f"/orders/v0/orders/{order_id}/shipmentConfirmation"
        if twice:
            w.client.post(path, json=body, headers=w.headers)
        return w.client.post(path, json=body, headers=w.headers)

    return send


def _confirm_on(order_id: str) -> Request:
    """confirmShipment with a good body for an order that does not exist."""

    def send(w: World) -> httpx.Response:
        return w.client.post(
            f"/orders/v0/orders/{order_id}/shipmentConfirmation",
            json=_package(w, w.orders["mfn_unshipped"]),
            headers=w.headers,
        )

    return send


def _ack(order_id: str, status: str = "Success") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header>'
        "<DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>A1SANDBOXDEMO"
        "</MerchantIdentifier></Header><MessageType>OrderAcknowledgement</MessageType>"
        f"<Message><MessageID>1</MessageID><OrderAcknowledgement><AmazonOrderID>{order_id}"
        f"</AmazonOrderID><StatusCode>{status}</StatusCode></OrderAcknowledgement></Message>"
        "</AmazonEnvelope>"
    ).encode()


def _document(w: World, content: bytes | None) -> str:
    created = w.client.post(
        "/feeds/2021-06-30/documents", json={"contentType": XML}, headers=w.headers
    )
    assert created.status_code == 201, created.text
    if content is not None:
        uploaded = httpx.put(created.json()["url"], content=content, headers={"content-type": XML})
        assert uploaded.status_code == 200, uploaded.text
    return str(created.json()["feedDocumentId"])


def _submit(
    w: World, feed_type: str = "POST_ORDER_ACKNOWLEDGEMENT_DATA", content: bytes | None = None
) -> str:
    document_id = _document(w, content if content is not None else _ack(w.orders["mfn_unshipped"]))
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


def _processed(w: World, **submit: Any) -> str:
    feed_id = _submit(w, **submit)
    assert w.client.post(f"/_sandbox/feeds/{feed_id}/process").status_code == 200
    return feed_id


def _create_document(body: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.post("/feeds/2021-06-30/documents", json=body, headers=w.headers)

    return send


def _create_feed(**changes: Any) -> Request:
    def send(w: World) -> httpx.Response:
        body = {
            "feedType": "POST_ORDER_FULFILLMENT_DATA",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "feedOptions": {"note": "conformance"},
        }
        body.update(changes)
        if "inputFeedDocumentId" not in body:
            body["inputFeedDocumentId"] = _document(w, _ack(w.orders["mfn_unshipped"]))
        body = {k: v for k, v in body.items() if v is not None}
        return w.client.post("/feeds/2021-06-30/feeds", json=body, headers=w.headers)

    return send


def _get_feed(make: Callable[[World], str]) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get(f"/feeds/2021-06-30/feeds/{make(w)}", headers=w.headers)

    return send


def _cancel_feed(make: Callable[[World], str]) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.delete(f"/feeds/2021-06-30/feeds/{make(w)}", headers=w.headers)

    return send


def _get_feeds(**params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get("/feeds/2021-06-30/feeds", params=params, headers=w.headers)

    return send


def _get_feeds_page_two(w: World) -> httpx.Response:
    for _ in range(3):
        _submit(w)
    first = _get_feeds(feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA", pageSize=2)(w)
    return _get_feeds(nextToken=first.json()["nextToken"])(w)


def _result_document(gzipped: bool = False, **params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        w.client.post("/_sandbox/feed-settings", json={"gzip_results": gzipped})
        try:
            feed_id = _processed(w)
        finally:
            w.client.post("/_sandbox/feed-settings", json={"gzip_results": False})
        document_id = w.handle.state.feeds[feed_id].result_document_id
        return w.client.get(
            f"/feeds/2021-06-30/documents/{document_id}", params=params, headers=w.headers
        )

    return send


def _feed_document_of(document_id: str) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get(f"/feeds/2021-06-30/documents/{document_id}", headers=w.headers)

    return send


def _confirm_partly(w: World, order_id: str) -> None:
    """Two units of the first item with an unlisted carrier and transparency codes."""
    first = _order_view(w, order_id)["items"][0]["order_item_id"]
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


def _cancel_first_item(w: World, order_id: str) -> None:
    """The seller cancels the first item with the acknowledgement feed."""
    first = _order_view(w, order_id)["items"][0]["order_item_id"]
    content = _ack(order_id, "Failure").replace(
        b"</StatusCode>",
        f"</StatusCode><Item><AmazonOrderItemCode>{first}</AmazonOrderItemCode>"
        "<CancelReason>NoInventory</CancelReason></Item>".encode(),
    )
    feed_id = _processed(w, content=content)
    assert w.handle.state.feeds[feed_id].messages_successful == 1


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body["packageDetail"].pop(name) if name != "packageDetail" else body.pop(name)

    return edit


def _set(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body["packageDetail"].update(changes)

    return edit


def _too_many(body: dict[str, Any]) -> None:
    body["packageDetail"]["orderItems"][0]["quantity"] += 1


KINDS = (
    "mfn_unshipped",
    "pending",
    "shipped_multi",
    "partial",
    "cancelled",
    "afn_prime",
    "business_uk",
    "replacement_de",
    "no_buyer",
    "cancel_requested",
    "confirmed",
    "seller_cancelled",
)
UNKNOWN_ORDER = "999-9999999-9999999"

CASES: dict[str, list[Case]] = {
    "orders2026.searchOrders": [
        Case("no includedData", 200, _search(lastUpdatedAfter=EPOCH)),
        Case("all includedData", 200, _search(lastUpdatedAfter=EPOCH, includedData=ALL_DATA)),
        *(
            Case(f"includedData {d}", 200, _search(createdAfter=EPOCH, includedData=d))
            for d in INCLUDED_DATA
        ),
        Case(
            "filters",
            200,
            _search(
                lastUpdatedAfter=EPOCH,
                fulfillmentStatuses="UNSHIPPED,SHIPPED",
                marketplaceIds="ATVPDKIKX0DER",
                fulfilledBy="MERCHANT",
                includedData=ALL_DATA,
            ),
        ),
        Case("second page", 200, _search_page_two),
        Case("no after", 400, _search(includedData="BUYER")),
        Case("mixed pairs", 400, _search(createdAfter=EPOCH, lastUpdatedBefore=EPOCH)),
        Case("page size", 400, _search(lastUpdatedAfter=EPOCH, maxResultsPerPage=101)),
        Case("bad token", 400, _search(paginationToken="nonsense")),
        Case("bad includedData", 400, _search(lastUpdatedAfter=EPOCH, includedData="NOPE")),
        Case("bad token header", 403, _unauthenticated(_search(lastUpdatedAfter=EPOCH))),
        Case(
            "429 fault",
            429,
            _with_fault("orders2026.searchOrders", "429", _search(lastUpdatedAfter=EPOCH)),
        ),
        Case(
            "500 fault",
            500,
            _with_fault("orders2026.searchOrders", "500", _search(lastUpdatedAfter=EPOCH)),
        ),
        Case(
            "503 fault",
            503,
            _with_fault("orders2026.searchOrders", "503", _search(lastUpdatedAfter=EPOCH)),
        ),
    ],
    "orders2026.getOrder": [
        *(Case(kind, 200, _get_order(kind)) for kind in KINDS),
        Case("no includedData", 200, _get_order("shipped_multi", included="")),
        Case("malformed id", 400, _get_order(None, order_id="TEST_CASE_400")),
        Case("unknown", 404, _get_order(None, order_id=UNKNOWN_ORDER)),
        Case("bad token header", 403, _unauthenticated(_get_order("pending"))),
    ],
    "ordersV0.getOrders": [
        Case(
            "updated",
            200,
            _get_orders_v0(
                LastUpdatedAfter=EPOCH, MarketplaceIds="ATVPDKIKX0DER,A1F83G8C2ARO7P,A1PA6795UKMFR9"
            ),
        ),
        Case(
            "created, filtered",
            200,
            _get_orders_v0(
                CreatedAfter=EPOCH,
                MarketplaceIds="ATVPDKIKX0DER",
                OrderStatuses="Unshipped,PartiallyShipped",
                FulfillmentChannels="MFN",
            ),
        ),
        Case("second page", 200, _get_orders_v0_page_two),
        Case("no marketplaces", 400, _get_orders_v0(CreatedAfter=EPOCH)),
        Case("no after", 400, _get_orders_v0(MarketplaceIds="ATVPDKIKX0DER")),
        Case(
            "bad status",
            400,
            _get_orders_v0(
                CreatedAfter=EPOCH, MarketplaceIds="ATVPDKIKX0DER", OrderStatuses="Lost"
            ),
        ),
        Case("bad token header", 403, _unauthenticated(_get_orders_v0(CreatedAfter=EPOCH))),
        Case(
            "503 fault",
            503,
            _with_fault("ordersV0.getOrders", "503", _get_orders_v0(CreatedAfter=EPOCH)),
        ),
    ],
    "ordersV0.getOrder": [
        *(Case(kind, 200, _v0_order(kind)) for kind in KINDS),
        Case("malformed id", 400, _v0_order(None, order_id="TEST_CASE_400")),
        Case("unknown", 404, _v0_order(None, order_id=UNKNOWN_ORDER)),
        Case("bad token header", 403, _unauthenticated(_v0_order("pending"))),
    ],
    "ordersV0.getOrderItems": [
        *(Case(kind, 200, _v0_order(kind, "/orderItems")) for kind in KINDS),
        Case("unknown", 404, _v0_order(None, "/orderItems", order_id=UNKNOWN_ORDER)),
        Case(
            "500 fault",
            500,
            _with_fault("ordersV0.getOrderItems", "500", _v0_order("pending", "/orderItems")),
        ),
    ],
    "ordersV0.confirmShipment": [
        Case("new package", 204, _confirm()),
        Case("the same package again (an edit)", 204, _confirm(twice=True)),
        Case(
            "carrier Other with a name",
            204,
            _confirm(
                edit=lambda b: b["packageDetail"].update(carrierCode="Other", carrierName="Acme")
            ),
        ),
        Case("shipDate not ISO 8601", 400, _confirm(edit=_set(shipDate="02/21/2022"))),
        Case("no packageDetail", 400, _confirm(edit=_drop("packageDetail"))),
        Case("no carrierCode", 400, _confirm(edit=_drop("carrierCode"))),
        Case("packageReferenceId not numeric", 400, _confirm(edit=_set(packageReferenceId="A"))),
        Case("more than ordered", 400, _confirm(edit=_too_many)),
        Case("Amazon-fulfilled order", 400, _confirm("afn_prime")),
        Case("cancelled order", 400, _confirm("cancelled")),
        Case("pending order", 400, _confirm("pending")),
        Case("malformed id", 400, _confirm_on("TEST_CASE_400")),
        Case("unknown", 404, _confirm_on("999-9999999-9999999")),
        Case("bad token header", 403, _unauthenticated(_confirm())),
        Case("429 fault", 429, _with_fault("ordersV0.confirmShipment", "429", _confirm())),
        Case("500 fault", 500, _with_fault("ordersV0.confirmShipment", "500", _confirm())),
    ],
    "feeds.createFeedDocument": [
        Case("xml", 201, _create_document({"contentType": XML})),
        Case(
            "flat file",
            201,
            _create_document({"contentType": "text/tab-separated-values; charset=UTF-8"}),
        ),
        Case("no contentType", 400, _create_document({})),
        Case("bad token header", 403, _unauthenticated(_create_document({"contentType": XML}))),
        Case(
            "503 fault",
            503,
            _with_fault("feeds.createFeedDocument", "503", _create_document({"contentType": XML})),
        ),
    ],
    "feeds.createFeed": [
        Case("uploaded document", 202, _create_feed()),
        Case("unknown document", 400, _create_feed(inputFeedDocumentId="badDocumentId")),
        Case("no feedType", 400, _create_feed(feedType=None)),
        Case("foreign marketplace", 400, _create_feed(marketplaceIds=["A1VC38T7YXB528"])),
        Case(
            "bad token header",
            403,
            _unauthenticated(_create_feed(inputFeedDocumentId="badDocumentId")),
        ),
        Case("429 fault", 429, _with_fault("feeds.createFeed", "429", _create_feed())),
    ],
    "feeds.getFeed": [
        Case("in queue", 200, _get_feed(_submit)),
        Case("done", 200, _get_feed(_processed)),
        Case("fatal", 200, _get_feed(lambda w: _processed(w, feed_type="POST_PRODUCT_DATA"))),
        Case(
            "done, not XML",
            200,
            _get_feed(lambda w: _processed(w, content=b"this is not XML")),
        ),
        Case("malformed id", 400, _get_feed(lambda w: "badFeedId1")),
        Case("unknown", 404, _get_feed(lambda w: "99999999999")),
        Case("500 fault", 500, _with_fault("feeds.getFeed", "500", _get_feed(_submit))),
    ],
    "feeds.getFeeds": [
        Case(
            "by type and status",
            200,
            _get_feeds(
                feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA,POST_ORDER_FULFILLMENT_DATA",
                processingStatuses="IN_QUEUE,DONE,FATAL",
                marketplaceIds="ATVPDKIKX0DER",
                createdSince=EPOCH,
                pageSize=100,
            ),
        ),
        Case("second page", 200, _get_feeds_page_two),
        Case("no feedTypes", 400, _get_feeds(pageSize=10)),
        Case(
            "nextToken with others",
            400,
            _get_feeds(nextToken="x", feedTypes="POST_ORDER_FULFILLMENT_DATA"),
        ),
        Case(
            "bad status",
            400,
            _get_feeds(feedTypes="POST_PRODUCT_DATA", processingStatuses="BAD_VALUE,DONE"),
        ),
        Case(
            "429 fault",
            429,
            _with_fault("feeds.getFeeds", "429", _get_feeds(feedTypes="POST_PRODUCT_DATA")),
        ),
    ],
    "feeds.cancelFeed": [
        Case("in queue", 200, _cancel_feed(_submit)),
        Case("already done", 400, _cancel_feed(_processed)),
        Case("unknown", 404, _cancel_feed(lambda w: "99999999999")),
        Case(
            "bad token header",
            403,
            _unauthenticated(_cancel_feed(lambda w: "50001000001")),
        ),
    ],
    "feeds.getFeedDocument": [
        Case("result document", 200, _result_document()),
        Case("gzipped result document", 200, _result_document(gzipped=True)),
        Case(
            "gzipped, content encoding on the URL",
            200,
            _result_document(gzipped=True, enableContentEncodingUrlHeader="true"),
        ),
        Case("unknown", 404, _feed_document_of("badDocumentId1")),
        Case(
            "bad flag",
            400,
            _result_document(enableContentEncodingUrlHeader="maybe"),
        ),
        Case(
            "503 fault",
            503,
            _with_fault("feeds.getFeedDocument", "503", _feed_document_of("badDocumentId1")),
        ),
    ],
}


@pytest.mark.parametrize("operation_key", sorted(SERVED_OPERATIONS))
def test_every_served_operation_has_success_and_error_cases(operation_key: str) -> None:
    statuses = {case.status for case in CASES.get(operation_key, [])}
    assert any(200 <= s < 300 for s in statuses), f"{operation_key} has no success case"
    assert any(s >= 400 for s in statuses), f"{operation_key} has no conformance case for an error"


@pytest.mark.parametrize(
    ("operation_key", "case"),
    [(key, case) for key, cases in CASES.items() for case in cases],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_sandbox_answers_conform_to_the_model(world: World, operation_key: str, case: Case) -> None:
    response = case.send(world)

    assert response.status_code == case.status, response.text
    if declares_body(operation_key, response.status_code):
        assert_conforms(operation_key, response.status_code, response.json())
    else:
        assert response.content == b""
    assert response.headers.get("x-amzn-RequestId")
    if response.status_code == 429:
        assert "x-amzn-RateLimit-Limit" not in response.headers
    else:
        assert float(response.headers["x-amzn-RateLimit-Limit"]) > 0
    if response.status_code >= 400:
        errors = response.json()["errors"]
        assert errors and all(e["code"] and e["message"] for e in errors)


def test_search_answers_carry_orders_of_every_kind(world: World) -> None:
    """The 200 cases above are only as good as the orders they return: make sure all showed."""
    body = _search(lastUpdatedAfter=EPOCH, includedData=ALL_DATA)(world).json()
    ids = {o["orderId"] for o in body["orders"]}
    assert set(world.orders.values()) <= ids


# -- Amazon's own examples --------------------------------------------------------------------


def _static_examples() -> list[tuple[str, int, int, Any]]:
    found = []
    for key, op in operations().items():
        if op.model not in SANDBOX_MODELS:
            continue
        for status, response in op.spec["responses"].items():
            for index, example in enumerate(
                response.get("x-amzn-api-sandbox", {}).get("static", [])
            ):
                # cancelFeed's 200 example has no response at all: Amazon answers no body.
                found.append((key, int(status), index, example.get("response", {})))
    return found


STATIC_EXAMPLES = _static_examples()


def test_the_models_carry_static_examples_for_the_served_operations() -> None:
    with_examples = {key for key, _, _, _ in STATIC_EXAMPLES}
    assert set(SERVED_OPERATIONS) <= with_examples


@pytest.mark.parametrize(
    ("operation_key", "status", "index", "body"),
    STATIC_EXAMPLES,
    ids=[f"{k}-{s}-{i}" for k, s, i, _ in STATIC_EXAMPLES],
)
def test_amazons_static_examples_validate(
    operation_key: str, status: int, index: int, body: Any
) -> None:
    declared = operations()[operation_key].spec["responses"][str(status)]
    if "schema" not in declared:
        assert body == {}  # a 204: no body
        return
    assert_conforms(operation_key, status, body)


def test_the_validator_rejects_what_the_model_forbids() -> None:
    good = {"orders": [], "lastUpdatedBefore": "2026-01-01T00:00:00Z"}
    assert_conforms("orders2026.searchOrders", 200, good)
    bad: dict[str, Any]
    for bad in (
        {"order": []},
        {"orders": [{"orderId": "1"}]},
        {"orders": [], "lastUpdatedBefore": "yesterday"},
        {"orders": [], "nextToken": "misplaced"},
    ):
        with pytest.raises(AssertionError):
            assert_conforms("orders2026.searchOrders", 200, bad)


# -- rate limits ------------------------------------------------------------------------------


def _token(client: httpx.Client) -> dict[str, str]:
    response = client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": DEMO_SELLER.refresh_token,
            "client_id": DEMO_SELLER.client_id,
            "client_secret": DEMO_SELLER.client_secret,
        },
    )
    return {"x-amz-access-token": response.json()["access_token"]}


def test_a_burst_beyond_the_bucket_gets_quota_exceeded() -> None:
    burst = operations()["orders2026.searchOrders"].usage_plan
    assert burst is not None
    with running_sandbox() as handle, httpx.Client(base_url=handle.base_url) as client:
        headers = _token(client)
        params = {"lastUpdatedAfter": EPOCH}
        statuses = [
            client.get("/orders/2026-01-01/orders", params=params, headers=headers).status_code
            for _ in range(burst.burst)
        ]
        throttled = client.get("/orders/2026-01-01/orders", params=params, headers=headers)
        other_operation = client.get(f"/orders/2026-01-01/orders/{UNKNOWN_ORDER}", headers=headers)

    assert statuses == [200] * burst.burst
    assert throttled.status_code == 429
    assert throttled.json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    assert throttled.headers["x-amzn-RequestId"]
    assert "x-amzn-RateLimit-Limit" not in throttled.headers
    assert_conforms("orders2026.searchOrders", 429, throttled.json())
    assert other_operation.status_code == 404  # each operation has a bucket of its own


def test_rate_factor_zero_lifts_the_limits() -> None:
    with running_sandbox(rate_factor=0) as handle, httpx.Client(base_url=handle.base_url) as client:
        headers = _token(client)
        statuses = {
            client.get(
                "/orders/2026-01-01/orders", params={"createdAfter": EPOCH}, headers=headers
            ).status_code
            for _ in range(60)
        }

    assert statuses == {200}
