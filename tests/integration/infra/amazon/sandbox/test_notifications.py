"""The sandbox delivers Amazon's notifications into a real SQS (moto's server): order changes as
``OrderChangeNotification`` with the subscription's filter honoured, finished feeds without a
poll, and the control API's drops and duplicates."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any

import httpx
import pytest
from jsonschema import Draft7Validator

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.sqs import MotoSqs, moto_sqs

pytestmark = pytest.mark.integration

US, UK = "ATVPDKIKX0DER", "A1F83G8C2ARO7P"


def _schema(name: str) -> Draft7Validator:
    text = resources.files("infra.amazon").joinpath("spapi_models", name).read_text()
    return Draft7Validator(json.loads(text))


ORDER_CHANGE = _schema("OrderChangeNotification.json")
FEED_FINISHED = _schema("FeedProcessingFinishedNotification.json")


@pytest.fixture(scope="module")
def sqs() -> Iterator[MotoSqs]:
    with moto_sqs() as running:
        yield running


@pytest.fixture
def sandbox(sqs: MotoSqs) -> Iterator[tuple[SandboxHandle, httpx.Client]]:
    with (
        running_sandbox(rate_factor=0, sqs_endpoint_url=sqs.endpoint_url) as handle,
        httpx.Client(base_url=handle.base_url) as client,
    ):
        yield handle, client


def _token(client: httpx.Client, **grant: str) -> dict[str, str]:
    form = {"client_id": DEMO_SELLER.client_id, "client_secret": DEMO_SELLER.client_secret}
    answer = client.post("/auth/o2/token", data={**form, **grant})
    assert answer.status_code == 200, answer.text
    return {"x-amz-access-token": answer.json()["access_token"]}


def _seller(client: httpx.Client) -> dict[str, str]:
    return _token(client, grant_type="refresh_token", refresh_token=DEMO_SELLER.refresh_token)


def _grantless(client: httpx.Client) -> dict[str, str]:
    return _token(client, grant_type="client_credentials", scope="sellingpartnerapi::notifications")


def _subscribe(
    client: httpx.Client, arn: str, notification_type: str, directive: dict[str, Any] | None = None
) -> str:
    destination = client.post(
        "/notifications/v1/destinations",
        json={"name": "test", "resourceSpecification": {"sqs": {"arn": arn}}},
        headers=_grantless(client),
    )
    assert destination.status_code in (200, 409), destination.text
    destinations = client.get("/notifications/v1/destinations", headers=_grantless(client))
    destination_id = next(
        d["destinationId"]
        for d in destinations.json()["payload"]
        if d["resource"]["sqs"]["arn"] == arn
    )
    version = "1.0" if notification_type == "ORDER_CHANGE" else "2020-09-04"
    body: dict[str, Any] = {"payloadVersion": version, "destinationId": destination_id}
    if directive is not None:
        body["processingDirective"] = directive
    made = client.post(
        f"/notifications/v1/subscriptions/{notification_type}", json=body, headers=_seller(client)
    )
    assert made.status_code == 200, made.text
    return str(made.json()["payload"]["subscriptionId"])


def _order(client: httpx.Client, **spec: Any) -> str:
    answer = client.post("/_sandbox/orders", json=spec)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["order_id"])


def _conforms(validator: Draft7Validator, body: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors


def test_order_changes_arrive_as_amazons_notifications_through_the_filter(
    sandbox: tuple[SandboxHandle, httpx.Client], sqs: MotoSqs
) -> None:
    _, client = sandbox
    url, arn = sqs.new_queue()
    directive = {
        "eventFilter": {
            "eventFilterType": "ORDER_CHANGE",
            "orderChangeTypes": ["OrderStatusChange", "BuyerRequestedChange"],
            "marketplaceIds": [US],
        }
    }
    subscription_id = _subscribe(client, arn, "ORDER_CHANGE", directive)

    us_order = _order(client, status="PENDING", marketplace_id=US)
    _order(client, marketplace_id=UK)  # filtered out: another marketplace
    client.post(f"/_sandbox/orders/{us_order}/status", json={"status": "UNSHIPPED"})
    client.post(f"/_sandbox/orders/{us_order}/cancellation-request", json={"reason": "No longer"})
    client.post(f"/_sandbox/orders/{us_order}/raw", json={"note": "no notification"})
    bodies = sqs.drain(url, expect=3)

    for body in bodies:
        _conforms(ORDER_CHANGE, body)
    changes = [
        (
            b["Payload"]["OrderChangeNotification"]["OrderChangeType"],
            b["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"],
        )
        for b in sorted(bodies, key=lambda b: b["NotificationMetadata"]["PublishTime"])
    ]
    assert sorted(changes) == sorted(
        [
            ("OrderStatusChange", "Pending"),
            ("OrderStatusChange", "Unshipped"),
            ("BuyerRequestedChange", "Unshipped"),
        ]
    )
    assert {b["Payload"]["OrderChangeNotification"]["AmazonOrderId"] for b in bodies} == {us_order}
    assert {b["NotificationMetadata"]["SubscriptionId"] for b in bodies} == {subscription_id}
    assert len({b["NotificationMetadata"]["NotificationId"] for b in bodies}) == 3
    item = bodies[0]["Payload"]["OrderChangeNotification"]["Summary"]["OrderItems"][0]
    assert "ItemPrice" not in item  # no prices, no buyer: the Orders API has those


def test_a_feed_that_finishes_unpolled_is_announced(
    sandbox: tuple[SandboxHandle, httpx.Client], sqs: MotoSqs
) -> None:
    handle, client = sandbox
    url, arn = sqs.new_queue()
    _subscribe(client, arn, "FEED_PROCESSING_FINISHED")
    seller = _seller(client)
    client.post("/_sandbox/feed-settings", json={"processing_seconds": 1})
    content_type = "text/xml; charset=UTF-8"
    document = client.post(
        "/feeds/2021-06-30/documents", json={"contentType": content_type}, headers=seller
    ).json()
    uploaded = httpx.put(
        document["url"], content=b"<AmazonEnvelope/>", headers={"content-type": content_type}
    )
    assert uploaded.status_code == 200, uploaded.text
    feed = client.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
            "marketplaceIds": [US],
            "inputFeedDocumentId": document["feedDocumentId"],
        },
        headers=seller,
    ).json()

    bodies = sqs.drain(url, expect=1, timeout_s=15)

    assert len(bodies) == 1
    _conforms(FEED_FINISHED, bodies[0])
    finished = bodies[0]["payload"]["feedProcessingFinishedNotification"]
    assert finished["feedId"] == feed["feedId"]
    assert finished["processingStatus"] == "DONE"
    assert finished["resultFeedDocumentId"] == handle.state.feeds[feed["feedId"]].result_document_id


def test_dropped_and_duplicated_notifications_on_request(
    sandbox: tuple[SandboxHandle, httpx.Client], sqs: MotoSqs
) -> None:
    _, client = sandbox
    url, arn = sqs.new_queue()
    _subscribe(client, arn, "ORDER_CHANGE")

    client.post("/_sandbox/notification-settings", json={"drop_next": 1})
    dropped = _order(client)
    kept = _order(client)
    client.post("/_sandbox/notification-settings", json={"duplicate_rate": 1})
    doubled = _order(client)
    bodies = sqs.drain(url, expect=3)

    orders = [b["Payload"]["OrderChangeNotification"]["AmazonOrderId"] for b in bodies]
    assert sorted(orders) == sorted([kept, doubled, doubled])
    ids = [b["NotificationMetadata"]["NotificationId"] for b in bodies]
    assert len(set(ids)) == 2  # a duplicate is the same notification, delivered twice
    listing = client.get("/_sandbox/notifications", params={"subject": dropped}).json()
    assert [n["status"] for n in listing["notifications"]] == ["dropped"]
    listing = client.get("/_sandbox/notifications", params={"subject": doubled}).json()
    assert [(n["status"], n["copies"]) for n in listing["notifications"]] == [("sent", 2)]


def test_an_unreachable_queue_is_listed_as_failed_and_answers_stay_prompt(
    sandbox: tuple[SandboxHandle, httpx.Client],
) -> None:
    _, client = sandbox
    _subscribe(client, "arn:aws:sqs:us-east-1:123456789012:no-such-queue", "ORDER_CHANGE")
    started = time.monotonic()
    order_id = _order(client)
    assert time.monotonic() - started < 2

    deadline = time.monotonic() + 10
    status = "queued"
    while time.monotonic() < deadline and status == "queued":
        listed = client.get("/_sandbox/notifications", params={"subject": order_id}).json()
        status = listed["notifications"][0]["status"]
        time.sleep(0.1)
    assert status == "failed"


def test_a_grantless_token_opens_no_seller_operation(
    sandbox: tuple[SandboxHandle, httpx.Client],
) -> None:
    _, client = sandbox
    answer = client.get(
        "/orders/2026-01-01/orders",
        params={"createdAfter": "2020-01-01T00:00:00Z"},
        headers=_grantless(client),
    )
    refused = client.post(
        "/auth/o2/token",
        data={
            "grant_type": "client_credentials",
            "scope": "sellingpartnerapi::everything",
            "client_id": DEMO_SELLER.client_id,
            "client_secret": DEMO_SELLER.client_secret,
        },
    )

    assert answer.status_code == 403
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


def test_get_subscriptions_lists_the_sellers_subscription_of_the_type_asked(
    sandbox: tuple[SandboxHandle, httpx.Client], sqs: MotoSqs
) -> None:
    _, client = sandbox
    _url, arn = sqs.new_queue()
    subscription_id = _subscribe(client, arn, "FEED_PROCESSING_FINISHED")

    def listed(**query: str) -> list[str]:
        answer = client.get(
            "/notifications/v1/subscriptions", params=query, headers=_seller(client)
        )
        assert answer.status_code == 200, answer.text
        assert "nextToken" not in answer.json()["payload"]
        return [s["subscriptionId"] for s in answer.json()["payload"]["subscriptions"]]

    assert listed(notificationTypes="FEED_PROCESSING_FINISHED") == [subscription_id]
    assert listed(notificationTypes="FEED_PROCESSING_FINISHED", payloadVersion="2020-09-04") == [
        subscription_id
    ]
    assert listed(notificationTypes="FEED_PROCESSING_FINISHED", payloadVersion="1.0") == []
    assert listed(notificationTypes="REPORT_PROCESSING_FINISHED") == []
