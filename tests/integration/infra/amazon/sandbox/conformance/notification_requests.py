"""The conformance requests of the Notifications API: destinations with a grantless token,
subscriptions with the seller's (by id: grantless), each success and each refusal."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.infra.amazon.sandbox.conformance.world import Case, Request, World

DESTINATIONS = "/notifications/v1/destinations"
SUBSCRIPTIONS = "/notifications/v1/subscriptions"
_grantless_tokens: dict[str, dict[str, str]] = {}  # base URL -> headers


def grantless(w: World) -> dict[str, str]:
    """A ``client_credentials`` token of the notifications scope for the demo app."""
    headers = _grantless_tokens.get(w.handle.base_url)
    if headers is None:
        answer = w.client.post(
            "/auth/o2/token",
            data={
                "grant_type": "client_credentials",
                "scope": "sellingpartnerapi::notifications",
                "client_id": DEMO_SELLER.client_id,
                "client_secret": DEMO_SELLER.client_secret,
            },
        )
        assert answer.status_code == 200, answer.text
        headers = {"x-amz-access-token": answer.json()["access_token"]}
        _grantless_tokens[w.handle.base_url] = headers
    return headers


def _arn() -> str:
    return f"arn:aws:sqs:us-east-1:123456789012:conformance-{uuid.uuid4().hex[:8]}"


def _new_destination(w: World) -> str:
    body = {"name": "conformance", "resourceSpecification": {"sqs": {"arn": _arn()}}}
    answer = w.client.post(DESTINATIONS, json=body, headers=grantless(w))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["payload"]["destinationId"])


def create_destination(
    body: dict[str, Any] | None = None, *, seller_token: bool = False
) -> Request:
    def send(w: World) -> httpx.Response:
        sent = body or {"name": "conformance", "resourceSpecification": {"sqs": {"arn": _arn()}}}
        headers = w.headers if seller_token else grantless(w)
        return w.client.post(DESTINATIONS, json=sent, headers=headers)

    return send


def same_arn_twice(w: World) -> httpx.Response:
    body = {"name": "twice", "resourceSpecification": {"sqs": {"arn": _arn()}}}
    w.client.post(DESTINATIONS, json=body, headers=grantless(w))
    return w.client.post(DESTINATIONS, json=body, headers=grantless(w))


def get_destinations(*, seller_token: bool = False) -> Request:
    def send(w: World) -> httpx.Response:
        _new_destination(w)
        return w.client.get(DESTINATIONS, headers=w.headers if seller_token else grantless(w))

    return send


def get_destination(destination_id: str = "") -> Request:
    def send(w: World) -> httpx.Response:
        wanted = destination_id or _new_destination(w)
        return w.client.get(f"{DESTINATIONS}/{wanted}", headers=grantless(w))

    return send


def delete_destination(destination_id: str = "", *, in_use: bool = False) -> Request:
    def send(w: World) -> httpx.Response:
        wanted = destination_id or _new_destination(w)
        if in_use:
            _fresh_subscription(w, "REPORT_PROCESSING_FINISHED", wanted)
        return w.client.delete(f"{DESTINATIONS}/{wanted}", headers=grantless(w))

    return send


def _drop_subscription(w: World, notification_type: str) -> None:
    found = w.client.get(f"{SUBSCRIPTIONS}/{notification_type}", headers=w.headers)
    if found.status_code == 200:
        subscription_id = found.json()["payload"]["subscriptionId"]
        w.client.delete(
            f"{SUBSCRIPTIONS}/{notification_type}/{subscription_id}", headers=grantless(w)
        )


def _fresh_subscription(
    w: World, notification_type: str, destination_id: str = "", **extra: Any
) -> httpx.Response:
    _drop_subscription(w, notification_type)
    version = "1.0" if notification_type == "ORDER_CHANGE" else "2020-09-04"
    body = {"payloadVersion": version, "destinationId": destination_id or _new_destination(w)}
    return w.client.post(
        f"{SUBSCRIPTIONS}/{notification_type}", json={**body, **extra}, headers=w.headers
    )


ORDER_FILTER = {
    "eventFilter": {
        "eventFilterType": "ORDER_CHANGE",
        "orderChangeTypes": ["OrderStatusChange", "BuyerRequestedChange"],
        "marketplaceIds": ["ATVPDKIKX0DER"],
    }
}


def create_subscription(notification_type: str, **extra: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return _fresh_subscription(w, notification_type, **extra)

    return send


def subscribe_twice(w: World) -> httpx.Response:
    first = _fresh_subscription(w, "FEED_PROCESSING_FINISHED")
    assert first.status_code == 200, first.text
    body = {"payloadVersion": "2020-09-04", "destinationId": _new_destination(w)}
    return w.client.post(f"{SUBSCRIPTIONS}/FEED_PROCESSING_FINISHED", json=body, headers=w.headers)


def subscribe_with(body: dict[str, Any], notification_type: str = "ORDER_CHANGE") -> Request:
    def send(w: World) -> httpx.Response:
        _drop_subscription(w, notification_type)
        sent = {"destinationId": _new_destination(w), **body}
        return w.client.post(f"{SUBSCRIPTIONS}/{notification_type}", json=sent, headers=w.headers)

    return send


def subscribe_with_grantless_token(w: World) -> httpx.Response:
    body = {"payloadVersion": "1.0", "destinationId": _new_destination(w)}
    return w.client.post(f"{SUBSCRIPTIONS}/ORDER_CHANGE", json=body, headers=grantless(w))


def get_subscription(notification_type: str, *, exists: bool = True) -> Request:
    def send(w: World) -> httpx.Response:
        if exists:
            _fresh_subscription(w, notification_type)
        else:
            _drop_subscription(w, notification_type)
        return w.client.get(f"{SUBSCRIPTIONS}/{notification_type}", headers=w.headers)

    return send


def list_subscriptions(
    query: dict[str, str], *, exists: bool = True, notification_type: str = "ORDER_CHANGE"
) -> Request:
    def send(w: World) -> httpx.Response:
        if exists:
            _fresh_subscription(w, notification_type, processingDirective=ORDER_FILTER)
        else:
            _drop_subscription(w, notification_type)
        return w.client.get(SUBSCRIPTIONS, params=query, headers=w.headers)

    return send


def by_id(method: str, *, unknown: bool = False) -> Request:
    def send(w: World) -> httpx.Response:
        subscription_id = str(uuid.uuid4())
        if not unknown:
            made = _fresh_subscription(w, "ORDER_CHANGE", processingDirective=ORDER_FILTER)
            subscription_id = made.json()["payload"]["subscriptionId"]
        return w.client.request(
            method, f"{SUBSCRIPTIONS}/ORDER_CHANGE/{subscription_id}", headers=grantless(w)
        )

    return send


UNKNOWN = "00000000-0000-0000-0000-000000000000"
NOTIFICATION_CASES: dict[str, list[Case]] = {
    "notifications.createDestination": [
        Case("sqs", 200, create_destination()),
        Case(
            "not an SQS ARN",
            400,
            create_destination({"name": "x", "resourceSpecification": {"sqs": {"arn": "queue"}}}),
        ),
        Case(
            "no name", 400, create_destination({"resourceSpecification": {"sqs": {"arn": _arn()}}})
        ),
        Case("the same ARN twice", 409, same_arn_twice),
        Case("a seller's token", 403, create_destination(seller_token=True)),
    ],
    "notifications.getDestinations": [
        Case("listed", 200, get_destinations()),
        Case("a seller's token", 403, get_destinations(seller_token=True)),
    ],
    "notifications.getDestination": [
        Case("found", 200, get_destination()),
        Case("unknown", 404, get_destination(UNKNOWN)),
    ],
    "notifications.deleteDestination": [
        Case("deleted", 200, delete_destination()),
        Case("unknown", 404, delete_destination(UNKNOWN)),
        Case("still in use", 409, delete_destination(in_use=True)),
    ],
    "notifications.createSubscription": [
        Case(
            "order change with a filter",
            200,
            create_subscription("ORDER_CHANGE", processingDirective=ORDER_FILTER),
        ),
        Case("feed processing finished", 200, create_subscription("FEED_PROCESSING_FINISHED")),
        Case("report processing finished", 200, create_subscription("REPORT_PROCESSING_FINISHED")),
        Case("a second one for the type", 409, subscribe_twice),
        Case("wrong payloadVersion", 400, subscribe_with({"payloadVersion": "2.0"})),
        Case(
            "filter of another type",
            400,
            subscribe_with(
                {
                    "payloadVersion": "1.0",
                    "processingDirective": {
                        "eventFilter": {"eventFilterType": "ANY_OFFER_CHANGED"}
                    },
                }
            ),
        ),
        Case("unknown notification type", 400, subscribe_with({"payloadVersion": "1.0"}, "NOPE")),
        Case("a grantless token", 403, subscribe_with_grantless_token),
    ],
    "notifications.getSubscription": [
        Case("found", 200, get_subscription("ORDER_CHANGE")),
        Case("none", 404, get_subscription("REPORT_PROCESSING_FINISHED", exists=False)),
        Case("unknown type", 400, get_subscription("NOPE", exists=False)),
    ],
    "notifications.getSubscriptions": [
        Case("one", 200, list_subscriptions({"notificationTypes": "ORDER_CHANGE"})),
        Case(
            "of a payload version",
            200,
            list_subscriptions(
                {"notificationTypes": "ORDER_CHANGE", "payloadVersion": "1.0", "pageSize": "100"}
            ),
        ),
        Case(
            "none",
            200,
            list_subscriptions(
                {"notificationTypes": "REPORT_PROCESSING_FINISHED"},
                exists=False,
                notification_type="REPORT_PROCESSING_FINISHED",
            ),
        ),
        Case(
            "two types",
            400,
            list_subscriptions({"notificationTypes": "ORDER_CHANGE,FEED_PROCESSING_FINISHED"}),
        ),
        Case("unknown type", 400, list_subscriptions({"notificationTypes": "NOPE"}, exists=False)),
        Case(
            "page too small",
            400,
            list_subscriptions({"notificationTypes": "ORDER_CHANGE", "pageSize": "10"}),
        ),
        Case(
            "a token never issued",
            400,
            list_subscriptions({"notificationTypes": "ORDER_CHANGE", "nextToken": "forged"}),
        ),
    ],
    "notifications.getSubscriptionById": [
        Case("found", 200, by_id("GET")),
        Case("unknown", 404, by_id("GET", unknown=True)),
    ],
    "notifications.deleteSubscriptionById": [
        Case("deleted", 200, by_id("DELETE")),
        Case("unknown", 404, by_id("DELETE", unknown=True)),
    ],
}
