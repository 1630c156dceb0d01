"""The control API: raw patches for odd orders, bulk creation, the stored view, reset."""

from __future__ import annotations

import httpx
import pytest

from infra.amazon.sandbox.server import running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.infra.amazon.sandbox.api import (
    Sandbox,
    advance,
    create,
    demo_headers,
    search,
)

pytestmark = pytest.mark.integration


def test_raw_patches_make_odd_orders_and_bump_the_update_time(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    order_id = create(client, created_time="2026-01-01T00:00:00Z")["order_id"]

    patched = client.post(
        f"/_sandbox/orders/{order_id}/raw",
        json={"fulfillment": {"fulfillmentStatus": "TELEPORTED"}, "salesChannel": None},
    )
    advance(client, 121)
    seen = search(
        client, headers, lastUpdatedAfter="2026-01-02T00:00:00Z", includedData="FULFILLMENT"
    )

    assert patched.status_code == 200
    order = seen.json()["orders"][0]
    assert order["orderId"] == order_id
    assert order["fulfillment"]["fulfillmentStatus"] == "TELEPORTED"
    assert order["fulfillment"]["fulfilledBy"] == "MERCHANT"  # merged, not replaced
    assert "salesChannel" not in order


def test_bulk_creation_is_deterministic_with_a_seed(sandbox: Sandbox) -> None:
    # How fast bulk creation is belongs to a benchmark, not to a test.
    _, client = sandbox
    first = client.post("/_sandbox/orders/bulk", json={"count": 1500, "seed": 42}).json()
    with running_sandbox(rate_factor=0) as other, httpx.Client(base_url=other.base_url) as c2:
        second = c2.post("/_sandbox/orders/bulk", json={"count": 1500, "seed": 42}).json()
        statuses = {o.status for o in other.state.orders.values()}
        markets = {o.marketplace_id for o in other.state.orders.values()}
        kinds = {o.fulfilled_by for o in other.state.orders.values()}

    assert first["order_ids"] == second["order_ids"]
    assert len(set(first["order_ids"])) == 1500
    assert {"PENDING", "UNSHIPPED", "SHIPPED"} <= statuses
    assert markets == set(DEMO_SELLER.marketplace_ids)
    assert kinds == {"MERCHANT", "AMAZON"}


def test_state_order_view_and_reset(sandbox: Sandbox) -> None:
    handle, client = sandbox
    order_id = create(client, status="SHIPPED")["order_id"]
    advance(client, 10)

    stored = client.get(f"/_sandbox/orders/{order_id}").json()
    summary = client.get("/_sandbox/state").json()
    clock = client.get("/_sandbox/clock").json()
    client.post("/_sandbox/reset")

    assert stored["packages"][0]["items"][0]["quantity"] >= 1
    assert stored["v0"]["order"]["OrderStatus"] == "Shipped"
    assert summary["orders_by_seller_and_status"][DEMO_SELLER.seller_id] == {"SHIPPED": 1}
    assert clock["offset_seconds"] == 10
    assert handle.state.orders == {}
    assert client.get("/_sandbox/state").json()["sellers"] == [DEMO_SELLER.seller_id]
    assert client.get(f"/_sandbox/orders/{order_id}").status_code == 404


def test_an_order_made_minutes_ago_is_seen_by_the_next_search_at_once(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    old = create(client, created_seconds_ago=180)["order_id"]
    fresh = create(client)["order_id"]
    both = client.post(
        "/_sandbox/orders",
        json={"created_seconds_ago": 180, "created_time": "2026-01-01T00:00:00Z"},
    )

    seen = search(client, headers, createdAfter="2020-01-01T00:00:00Z").json()["orders"]

    assert [o["orderId"] for o in seen] == [old]  # the fresh one is within Amazon's two minutes
    assert fresh != old
    assert both.status_code == 400, both.text
    assert "not both" in both.text
