"""How feeds move on: by sandbox time or by polling, cancelled only while queued, listed and paged,
separate per seller; lost answers and rate buckets.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from infra.amazon.sandbox.server import running_sandbox
from tests.integration.infra.amazon.sandbox.feeds.support import (
    DOCUMENTS,
    FEEDS,
    MARKETPLACE,
    XML,
    Sandbox,
    acknowledgement,
    envelope,
    fulfilment,
)

pytestmark = pytest.mark.integration


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


def test_a_processing_time_holds_a_feed_until_that_much_sandbox_time_passed(
    sandbox: Sandbox,
) -> None:
    order_id, _ = sandbox.order()
    content = envelope("OrderFulfillment", fulfilment(1, order_id))
    settings = sandbox.client.post("/_sandbox/feed-settings", json={"processing_seconds": 5})
    feed_id = sandbox.submit("POST_ORDER_FULFILLMENT_DATA", content)

    polled = [sandbox.get_feed(feed_id)["processingStatus"] for _ in range(4)]
    sandbox.client.post("/_sandbox/clock/advance", json={"seconds": 2.6})
    halfway = [sandbox.get_feed(feed_id)["processingStatus"] for _ in range(3)]
    unshipped = sandbox.view(order_id)["status"]
    sandbox.client.post("/_sandbox/clock/advance", json={"seconds": 2.5})
    done = sandbox.get_feed(feed_id)
    cleared = sandbox.client.post("/_sandbox/feed-settings", json={"processing_seconds": None})
    later = sandbox.submit("POST_ORDER_FULFILLMENT_DATA", content)

    assert settings.json() == {"gzip_results": False, "processing_seconds": 5}
    assert polled == ["IN_QUEUE"] * 4  # polls no longer hurry it
    assert halfway == ["IN_PROGRESS"] * 3 and unshipped == "UNSHIPPED"
    assert done["processingStatus"] == "DONE" and sandbox.view(order_id)["status"] == "SHIPPED"
    assert cleared.json()["processing_seconds"] is None
    assert [sandbox.get_feed(later)["processingStatus"] for _ in range(3)] == [
        "IN_QUEUE",
        "IN_PROGRESS",
        "DONE",
    ]
    assert sandbox.client.get("/_sandbox/feed-settings").json() == {
        "gzip_results": False,
        "processing_seconds": None,
    }
    refused = sandbox.client.post("/_sandbox/feed-settings", json={"processing_seconds": -1})
    assert refused.status_code == 422


@pytest.mark.parametrize("kind", ["504_after_apply", "lose_response"])
def test_a_create_feed_whose_answer_is_lost_is_still_queued_once(
    sandbox: Sandbox, kind: str
) -> None:
    document_id, _ = sandbox.document(b"<AmazonEnvelope/>")
    sandbox.client.post("/_sandbox/faults", json={"operation": "feeds.createFeed", "kind": kind})
    body = {
        "feedType": "POST_ORDER_FULFILLMENT_DATA",
        "marketplaceIds": [MARKETPLACE],
        "inputFeedDocumentId": document_id,
    }

    try:
        answer: httpx.Response | None = sandbox.client.post(
            FEEDS, json=body, headers=sandbox.headers
        )
    except httpx.RemoteProtocolError:
        answer = None
    listed = sandbox.client.get(
        FEEDS, params={"feedTypes": "POST_ORDER_FULFILLMENT_DATA"}, headers=sandbox.headers
    ).json()["feeds"]
    (call,) = sandbox.client.get(
        "/_sandbox/calls", params={"operation": "feeds.createFeed"}
    ).json()["calls"]

    if kind == "504_after_apply":
        assert answer is not None and answer.status_code == 504
        assert answer.json()["errors"][0]["code"] == "GatewayTimeout"
        assert answer.headers["x-amzn-RequestId"]
    else:
        assert answer is None
    assert len(listed) == 1
    assert (call["status"], call["fault"]) == (202, kind)
