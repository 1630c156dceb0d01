"""Queued faults: server errors that apply nothing, latency, connections that die, answers lost
after the request took effect, faults for one seller.
"""

from __future__ import annotations

import time

import httpx
import pytest

from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.infra.amazon.sandbox.api import (
    EPOCH,
    OTHER,
    SEARCH,
    Sandbox,
    create,
    demo_headers,
    other_headers,
    search,
)

pytestmark = pytest.mark.integration


def test_server_error_faults_answer_without_applying_and_are_logged(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    client.delete("/_sandbox/calls")
    client.post(
        "/_sandbox/faults",
        json={"operation": "orders2026.searchOrders", "kind": "503", "count": 2},
    )

    statuses = [search(client, headers, createdAfter=EPOCH).status_code for _ in range(3)]
    calls = client.get("/_sandbox/calls", params={"operation": "orders2026.searchOrders"}).json()

    assert statuses == [503, 503, 200]
    assert [c["fault"] for c in calls["calls"]] == ["503", "503", None]
    assert {c["seller_id"] for c in calls["calls"]} == {DEMO_SELLER.seller_id}


def test_latency_faults_delay_the_answer(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    client.post("/_sandbox/faults", json={"operation": "*", "kind": "latency", "latency_ms": 300})

    started = time.monotonic()
    response = search(client, headers, createdAfter=EPOCH)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("kind", ["drop", "lose_response"])
def test_lost_connections_raise_transport_errors_in_httpx(sandbox: Sandbox, kind: str) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    order_id = create(client)["order_id"]
    client.post("/_sandbox/faults", json={"operation": "orders2026.getOrder", "kind": kind})

    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"{SEARCH}/{order_id}", headers=headers)
    after = client.get(f"{SEARCH}/{order_id}", headers=headers)
    last_fault = client.get("/_sandbox/calls", params={"limit": 2}).json()["calls"][0]

    assert after.status_code == 200
    assert last_fault["fault"] == kind
    assert last_fault["status"] == (200 if kind == "lose_response" else 0)


def test_faults_can_target_one_seller(sandbox: Sandbox) -> None:
    _, client = sandbox
    client.post("/_sandbox/sellers", json=OTHER)
    other = other_headers(client)
    client.post(
        "/_sandbox/faults",
        json={"operation": "*", "kind": "500", "seller_id": OTHER["seller_id"]},
    )

    assert search(client, demo_headers(client), createdAfter=EPOCH).status_code == 200
    assert search(client, other, createdAfter=EPOCH).status_code == 500
    assert (
        client.post("/_sandbox/faults", json={"operation": "nope", "kind": "500"}).status_code
        == 400
    )


def test_a_504_after_apply_answers_504_for_a_request_that_took_effect(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    order_id = create(client, created_time="2026-01-10T12:00:00Z")["order_id"]
    view = client.get(f"/_sandbox/orders/{order_id}").json()
    client.post(
        "/_sandbox/faults",
        json={"operation": "ordersV0.confirmShipment", "kind": "504_after_apply"},
    )

    answer = client.post(
        f"/orders/v0/orders/{order_id}/shipmentConfirmation",
        json={
            "marketplaceId": "ATVPDKIKX0DER",
            "packageDetail": {
                "packageReferenceId": "1",
                "carrierCode": "UPS",
                "trackingNumber": "1Z999AA10123456784",
                "shipDate": "2026-01-11T09:30:00Z",
                "orderItems": [
                    {"orderItemId": i["order_item_id"], "quantity": i["quantity"]}
                    for i in view["items"]
                ],
            },
        },
        headers=headers,
    )
    (call,) = client.get(
        "/_sandbox/calls", params={"operation": "ordersV0.confirmShipment"}
    ).json()["calls"]

    assert answer.status_code == 504
    assert answer.json() == {
        "errors": [
            {"code": "GatewayTimeout", "message": "Endpoint request timed out", "details": ""}
        ]
    }
    assert client.get(f"/_sandbox/orders/{order_id}").json()["status"] == "SHIPPED"
    assert (call["status"], call["fault"]) == (204, "504_after_apply")
