"""getFeeds' parameters as the model describes them: each filter alone and together, the page
size's bounds, ``nextToken`` alone, and feeds kept for 90 days.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from infra.amazon.sandbox.state import iso
from tests.integration.infra.amazon.sandbox.feeds.support import FEEDS, Sandbox

pytestmark = pytest.mark.integration

ACK = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
SHIP = "POST_ORDER_FULFILLMENT_DATA"
UK = "A1F83G8C2ARO7P"


def _submit(sandbox: Sandbox, feed_type: str, marketplaces: list[str]) -> str:
    document_id, _ = sandbox.document(b"<AmazonEnvelope/>")
    response = sandbox.client.post(
        FEEDS,
        json={
            "feedType": feed_type,
            "marketplaceIds": marketplaces,
            "inputFeedDocumentId": document_id,
        },
        headers=sandbox.headers,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["feedId"])


def _ids(sandbox: Sandbox, **params: Any) -> list[str]:
    response = sandbox.client.get(FEEDS, params=params, headers=sandbox.headers)
    assert response.status_code == 200, response.text
    return [f["feedId"] for f in response.json()["feeds"]]


def test_each_filter_narrows_the_list(sandbox: Sandbox) -> None:
    state = sandbox.handle.state
    us_ack = _submit(sandbox, ACK, ["ATVPDKIKX0DER"])
    state.advance_clock(3600)
    sandbox.log_in()
    middle = iso(state.now())
    earlier = iso(state.now() - timedelta(minutes=30))
    uk_ship = _submit(sandbox, SHIP, [UK])
    both = _submit(sandbox, ACK, ["ATVPDKIKX0DER", UK])
    sandbox.client.post(f"/_sandbox/feeds/{both}/process")
    everything = f"{ACK},{SHIP}"

    assert _ids(sandbox, feedTypes=everything) == [both, uk_ship, us_ack]
    assert _ids(sandbox, feedTypes=SHIP) == [uk_ship]
    assert _ids(sandbox, feedTypes=everything, marketplaceIds=UK) == [both, uk_ship]
    assert _ids(sandbox, feedTypes=ACK, marketplaceIds="ATVPDKIKX0DER") == [both, us_ack]
    # the oldest finished by the clock, the newest by the control API
    assert _ids(sandbox, feedTypes=everything, processingStatuses="DONE") == [both, us_ack]
    assert _ids(sandbox, feedTypes=everything, processingStatuses="IN_QUEUE") == [uk_ship]
    assert _ids(sandbox, feedTypes=everything, processingStatuses="IN_QUEUE,DONE") == [
        both,
        uk_ship,
        us_ack,
    ]
    assert _ids(sandbox, feedTypes=everything, createdSince=middle) == [both, uk_ship]
    assert _ids(sandbox, feedTypes=everything, createdUntil=earlier) == [us_ack]
    assert _ids(
        sandbox, feedTypes=[ACK, SHIP], marketplaceIds=UK, processingStatuses="IN_QUEUE"
    ) == [uk_ship]  # repeated parameters count as a list too
    assert _ids(sandbox, feedTypes=everything, pageSize=1) == [both]


def test_bad_parameters_are_refused_with_the_parameter_named(sandbox: Sandbox) -> None:
    _submit(sandbox, ACK, ["ATVPDKIKX0DER"])
    _submit(sandbox, ACK, ["ATVPDKIKX0DER"])
    eleven = ",".join(f"TYPE_{n}" for n in range(11))
    first = sandbox.client.get(
        FEEDS, params={"feedTypes": ACK, "pageSize": 1}, headers=sandbox.headers
    )
    token = first.json()["nextToken"]
    now = sandbox.handle.state.now()
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "feedTypes or nextToken"),
        ({"feedTypes": eleven}, "at most 10"),
        ({"feedTypes": ACK, "marketplaceIds": eleven}, "at most 10"),
        ({"feedTypes": ACK, "pageSize": 0}, "pageSize"),
        ({"feedTypes": ACK, "pageSize": 101}, "pageSize"),
        ({"feedTypes": ACK, "pageSize": "ten"}, "pageSize"),
        ({"feedTypes": ACK, "processingStatuses": "WAITING"}, "processingStatuses"),
        ({"feedTypes": ACK, "createdSince": "yesterday"}, "createdSince"),
        (
            {
                "feedTypes": ACK,
                "createdSince": iso(now),
                "createdUntil": iso(now - timedelta(hours=1)),
            },
            "createdUntil must be equal to or after createdSince",
        ),
        ({"nextToken": token, "pageSize": 1}, "only parameter"),
        ({"nextToken": "forged"}, "pagination token"),
    ]

    for params, words in cases:
        response = sandbox.client.get(FEEDS, params=params, headers=sandbox.headers)
        assert response.status_code == 400, (params, response.text)
        assert words in response.json()["errors"][0]["message"], (params, response.json())
    second = sandbox.client.get(FEEDS, params={"nextToken": token}, headers=sandbox.headers)
    assert second.status_code == 200 and len(second.json()["feeds"]) == 1


def test_feeds_are_kept_for_ninety_days(sandbox: Sandbox) -> None:
    old = _submit(sandbox, ACK, ["ATVPDKIKX0DER"])
    sandbox.handle.state.advance_clock(timedelta(days=89).total_seconds())
    sandbox.log_in()
    recent = _submit(sandbox, ACK, ["ATVPDKIKX0DER"])
    kept = _ids(sandbox, feedTypes=ACK, createdSince="2020-01-01T00:00:00Z")
    sandbox.handle.state.advance_clock(timedelta(days=2).total_seconds())
    sandbox.log_in()

    assert kept == [recent, old]
    assert _ids(sandbox, feedTypes=ACK, createdSince="2020-01-01T00:00:00Z") == [recent]
    assert _ids(sandbox, feedTypes=ACK) == [recent]
