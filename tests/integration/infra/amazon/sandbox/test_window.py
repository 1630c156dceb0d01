"""The search window and Amazon's clock: the two-minute rule, the "before" returned, whole
seconds in UTC.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.amazon.sandbox.state import parse_iso
from tests.integration.infra.amazon.sandbox.api import (
    EPOCH,
    Sandbox,
    advance,
    create,
    demo_headers,
    search,
    search_ids,
)

pytestmark = pytest.mark.integration


def test_a_new_order_shows_only_once_it_is_two_minutes_old(sandbox: Sandbox) -> None:
    _handle, client = sandbox
    headers = demo_headers(client)
    order_id = create(client)["order_id"]

    assert order_id not in search_ids(client, headers, lastUpdatedAfter=EPOCH)
    advance(client, 121)
    assert order_id in search_ids(client, headers, lastUpdatedAfter=EPOCH)


def test_the_default_before_is_now_minus_two_minutes_and_is_returned(sandbox: Sandbox) -> None:
    handle, client = sandbox
    headers = demo_headers(client)

    body = search(client, headers, lastUpdatedAfter=EPOCH).json()
    expected = handle.state.now() - timedelta(minutes=2)

    returned = parse_iso(body["lastUpdatedBefore"])
    assert abs((returned - expected).total_seconds()) < 2
    assert "createdBefore" not in body
    created = search(client, headers, createdAfter=EPOCH).json()
    assert "createdBefore" in created and "lastUpdatedBefore" not in created


def test_the_window_is_inclusive_at_the_returned_before(sandbox: Sandbox) -> None:
    _handle, client = sandbox
    headers = demo_headers(client)
    body = search(client, headers, lastUpdatedAfter=EPOCH).json()
    at_before = create(client, created_time=body["lastUpdatedBefore"])["order_id"]

    again = search(
        client, headers, lastUpdatedAfter=EPOCH, lastUpdatedBefore=body["lastUpdatedBefore"]
    )

    assert at_before in [o["orderId"] for o in again.json()["orders"]]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "createdAfter"),
        ({"createdBefore": EPOCH}, "createdAfter"),
        ({"createdAfter": EPOCH, "lastUpdatedAfter": EPOCH}, "lastUpdatedAfter"),
        ({"lastUpdatedAfter": EPOCH, "createdBefore": EPOCH}, "createdBefore"),
        ({"lastUpdatedAfter": "2021-01-01T00:00:00Z", "lastUpdatedBefore": EPOCH}, "Before"),
        ({"createdAfter": "yesterday"}, "createdAfter"),
        ({"createdAfter": EPOCH, "maxResultsPerPage": "0"}, "maxResultsPerPage"),
        ({"createdAfter": EPOCH, "fulfillmentStatuses": "LOST"}, "fulfillmentStatuses"),
    ],
)
def test_bad_windows_and_parameters_are_400_naming_the_parameter(
    sandbox: Sandbox, params: dict[str, str], named: str
) -> None:
    _, client = sandbox
    response = search(client, demo_headers(client), **params)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    assert named in error["message"]


def test_a_before_within_the_last_two_minutes_is_refused(sandbox: Sandbox) -> None:
    handle, client = sandbox
    recent = (handle.state.now() - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")

    response = search(client, demo_headers(client), createdAfter=EPOCH, createdBefore=recent)

    assert response.status_code == 400
    assert "two minutes" in response.json()["errors"][0]["message"]


def test_an_after_inside_the_last_two_minutes_is_refused(sandbox: Sandbox) -> None:
    handle, client = sandbox
    recent = (handle.state.now() - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")

    response = search(client, demo_headers(client), lastUpdatedAfter=recent)

    assert response.status_code == 400


def test_unknown_query_parameters_are_ignored(sandbox: Sandbox) -> None:
    _, client = sandbox
    response = search(client, demo_headers(client), createdAfter=EPOCH, somethingNew="1")

    assert response.status_code == 200


def test_timestamps_are_whole_seconds_in_utc(sandbox: Sandbox) -> None:
    _, client = sandbox
    order = create(client, created_time="2026-03-01T10:00:00.750+02:00")["order"]

    assert order["createdTime"] == "2026-03-01T08:00:00Z"
    assert (
        order["lastUpdatedTime"] == "2026-03-01T08:00:00Z"
    )  # a new order's update is its creation
