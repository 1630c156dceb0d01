"""The sandbox's ``confirmShipment`` over HTTP: one call is one package, the same
``packageReferenceId`` edits it, quantities and statuses follow, and every refusal names its
field.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER

pytestmark = pytest.mark.integration

MARKETPLACE = "ATVPDKIKX0DER"
PURCHASED = "2026-01-10T12:00:00Z"
SHIPPED_AT = "2026-01-11T09:30:00Z"


class Sandbox:
    def __init__(self, handle: SandboxHandle, client: httpx.Client) -> None:
        self.handle = handle
        self.client = client
        token = client.post(
            "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": DEMO_SELLER.refresh_token,
                "client_id": DEMO_SELLER.client_id,
                "client_secret": DEMO_SELLER.client_secret,
            },
        ).json()["access_token"]
        self.headers = {"x-amz-access-token": token}

    def order(self, **spec: Any) -> str:
        spec.setdefault("created_time", PURCHASED)
        response = self.client.post("/_sandbox/orders", json=spec)
        assert response.status_code == 201, response.text
        return str(response.json()["order_id"])

    def view(self, order_id: str) -> dict[str, Any]:
        response = self.client.get(f"/_sandbox/orders/{order_id}")
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()
        return view

    def item_ids(self, order_id: str) -> list[str]:
        return [i["order_item_id"] for i in self.view(order_id)["items"]]

    def confirm(self, order_id: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(
            f"/orders/v0/orders/{order_id}/shipmentConfirmation", json=body, headers=self.headers
        )

    def get_order(self, order_id: str) -> dict[str, Any]:
        response = self.client.get(
            f"/orders/2026-01-01/orders/{order_id}",
            params={"includedData": "PACKAGES,FULFILLMENT"},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()["order"]
        return order

    def v0_status(self, order_id: str) -> str:
        response = self.client.get(f"/orders/v0/orders/{order_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return str(response.json()["payload"]["OrderStatus"])


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox(rate_factor=0) as handle, httpx.Client(base_url=handle.base_url) as client:
        yield Sandbox(handle, client)


def body(items: list[tuple[str, int]], reference: str = "1", **detail: Any) -> dict[str, Any]:
    package: dict[str, Any] = {
        "packageReferenceId": reference,
        "carrierCode": "UPS",
        "shippingMethod": "Ground",
        "trackingNumber": "1Z999AA10123456784",
        "shipDate": SHIPPED_AT,
        "orderItems": [{"orderItemId": i, "quantity": q} for i, q in items],
    }
    package.update(detail)
    return {"marketplaceId": MARKETPLACE, "packageDetail": package}


def two_line_order(sandbox: Sandbox) -> tuple[str, str, str]:
    order_id = sandbox.order(
        items=[
            {"sku": "A-1", "quantity": 2, "unit_price": "10.00"},
            {"sku": "B-2", "quantity": 1, "unit_price": "5.00"},
        ]
    )
    first, second = sandbox.item_ids(order_id)
    return order_id, first, second


def test_a_confirmation_ships_the_package_with_204_and_no_body(sandbox: Sandbox) -> None:
    order_id, first, second = two_line_order(sandbox)
    before = sandbox.view(order_id)["last_updated_time"]
    sandbox.handle.state.advance_clock(5)

    response = sandbox.confirm(order_id, body([(first, 2), (second, 1)]))

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["x-amzn-RequestId"] and response.headers["x-amzn-RateLimit-Limit"]
    order = sandbox.get_order(order_id)
    assert order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert order["lastUpdatedTime"] > before
    (package,) = order["packages"]
    assert package["packageReferenceId"] == "1"
    assert package["carrier"] == "UPS"
    assert package["trackingNumber"] == "1Z999AA10123456784"
    assert package["shippingService"] == "Ground"
    assert package["shipTime"] == SHIPPED_AT  # the ship date as sent, not the time of the call
    assert package["packageStatus"] == {"status": "SHIPPED"}
    assert package["packageItems"] == [
        {"orderItemId": first, "quantity": 2},
        {"orderItemId": second, "quantity": 1},
    ]
    assert [i["fulfillment"] for i in order["orderItems"]] == [
        {"quantityFulfilled": 2, "quantityUnfulfilled": 0},
        {"quantityFulfilled": 1, "quantityUnfulfilled": 0},
    ]
    assert sandbox.v0_status(order_id) == "Shipped"


def test_a_partial_shipment_then_the_rest_moves_the_status(sandbox: Sandbox) -> None:
    order_id, first, second = two_line_order(sandbox)

    assert sandbox.confirm(order_id, body([(first, 1)], "1")).status_code == 204
    assert sandbox.get_order(order_id)["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    assert sandbox.v0_status(order_id) == "PartiallyShipped"
    v0 = sandbox.client.get(f"/orders/v0/orders/{order_id}", headers=sandbox.headers).json()
    assert v0["payload"]["NumberOfItemsShipped"] == 1
    assert v0["payload"]["NumberOfItemsUnshipped"] == 2

    assert sandbox.confirm(order_id, body([(first, 1), (second, 1)], "2")).status_code == 204
    order = sandbox.get_order(order_id)
    assert order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert [p["packageReferenceId"] for p in order["packages"]] == ["1", "2"]
    assert sandbox.v0_status(order_id) == "Shipped"

    # Nothing is left: a third package is more than remains.
    third = sandbox.confirm(order_id, body([(first, 1)], "3"))
    assert third.status_code == 400
    assert "packageDetail.orderItems[0].quantity" in third.json()["errors"][0]["message"]


def test_the_same_package_reference_edits_the_package(sandbox: Sandbox) -> None:
    order_id = sandbox.order(items=[{"sku": "A-1", "quantity": 3, "unit_price": "10.00"}])
    (item,) = sandbox.item_ids(order_id)

    assert sandbox.confirm(order_id, body([(item, 1)], "5")).status_code == 204
    created = sandbox.view(order_id)["packages"][0]["created_time"]
    edited = body([(item, 3)], "5", carrierCode="FedEx", trackingNumber="7777", shipDate=PURCHASED)
    assert sandbox.confirm(order_id, edited).status_code == 204

    view = sandbox.view(order_id)
    (package,) = view["packages"]
    assert package["carrier"] == "FedEx" and package["tracking_number"] == "7777"
    assert package["ship_time"] == PURCHASED
    assert package["items"] == [{"order_item_id": item, "quantity": 3}]
    assert package["created_time"] == created and package["updated_time"]
    assert view["items"][0]["quantity_shipped"] == 3
    assert view["status"] == "SHIPPED"

    # Editing down again: the units come back as unshipped.
    assert sandbox.confirm(order_id, body([(item, 2)], "5")).status_code == 204
    view = sandbox.view(order_id)
    assert len(view["packages"]) == 1
    assert view["items"][0]["quantity_shipped"] == 2
    assert view["status"] == "PARTIALLY_SHIPPED"


def test_an_edit_may_take_the_units_its_own_package_held(sandbox: Sandbox) -> None:
    """Quantities are checked against every *other* package, so resending is always fine."""
    order_id = sandbox.order(items=[{"sku": "A-1", "quantity": 2, "unit_price": "10.00"}])
    (item,) = sandbox.item_ids(order_id)
    assert sandbox.confirm(order_id, body([(item, 2)], "1")).status_code == 204

    assert sandbox.confirm(order_id, body([(item, 2)], "1")).status_code == 204
    assert sandbox.confirm(order_id, body([(item, 1)], "2")).status_code == 400


def _refusal(changes: dict[str, Any]) -> Any:
    """A change to a good body: a key with None removes it; "detail." keys go into packageDetail."""

    def apply(good: dict[str, Any]) -> dict[str, Any]:
        for key, value in changes.items():
            target = good["packageDetail"] if key.startswith("detail.") else good
            name = key.removeprefix("detail.")
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
        return good

    return apply


FUTURE = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"marketplaceId": None}, "marketplaceId"),
        ({"packageDetail": None}, "packageDetail"),
        ({"detail.packageReferenceId": None}, "packageDetail.packageReferenceId"),
        ({"detail.packageReferenceId": "0"}, "packageDetail.packageReferenceId"),
        ({"detail.packageReferenceId": "-1"}, "packageDetail.packageReferenceId"),
        ({"detail.packageReferenceId": "PKG1"}, "packageDetail.packageReferenceId"),
        ({"detail.carrierCode": None}, "packageDetail.carrierCode"),
        ({"detail.carrierCode": "Other"}, "packageDetail.carrierName"),
        ({"detail.trackingNumber": None}, "packageDetail.trackingNumber"),
        ({"detail.trackingNumber": "  "}, "packageDetail.trackingNumber"),
        ({"detail.shipDate": "02/21/2022"}, "packageDetail.shipDate"),
        ({"detail.shipDate": "2026-01-11"}, "packageDetail.shipDate"),
        ({"detail.shipDate": None}, "packageDetail.shipDate"),
        ({"detail.shipDate": FUTURE}, "packageDetail.shipDate"),
        ({"detail.shipDate": "2026-01-09T00:00:00Z"}, "packageDetail.shipDate"),
        ({"detail.orderItems": None}, "packageDetail.orderItems"),
        ({"detail.orderItems": []}, "packageDetail.orderItems"),
        (
            {"detail.orderItems": [{"orderItemId": "00000000000000", "quantity": 1}]},
            "packageDetail.orderItems[0].orderItemId",
        ),
        (
            {"detail.orderItems": [{"orderItemId": "ITEM", "quantity": 0}]},
            "packageDetail.orderItems[0].quantity",
        ),
        (
            {"detail.orderItems": [{"orderItemId": "ITEM", "quantity": 3}]},
            "packageDetail.orderItems[0].quantity",
        ),
        ({"marketplaceId": "A1F83G8C2ARO7P"}, "marketplaceId"),
        ({"codCollectionMethod": "Cash"}, "codCollectionMethod"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input_is_400_invalid_input_naming_the_field(
    sandbox: Sandbox, changes: dict[str, Any], field: str
) -> None:
    order_id = sandbox.order(items=[{"sku": "A-1", "quantity": 2, "unit_price": "10.00"}])
    (item,) = sandbox.item_ids(order_id)
    good = body([(item, 1)])
    changes = {
        k: [dict(line, orderItemId=item) if line["orderItemId"] == "ITEM" else line for line in v]
        if k == "detail.orderItems" and v
        else v
        for k, v in changes.items()
    }

    response = sandbox.confirm(order_id, _refusal(changes)(good))

    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["code"] == "InvalidInput"
    assert field in error["message"]
    assert sandbox.view(order_id)["packages"] == []  # nothing applied


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"fulfilled_by": "AMAZON", "status": "UNSHIPPED"}, "fulfilled by Amazon"),
        ({"status": "CANCELLED"}, "is cancelled"),
        ({"status": "PENDING"}, "is pending"),
    ],
    ids=["afn", "cancelled", "pending"],
)
def test_orders_that_cannot_ship_are_400(
    sandbox: Sandbox, spec: dict[str, Any], words: str
) -> None:
    order_id = sandbox.order(**spec)
    (item,) = sandbox.item_ids(order_id)

    response = sandbox.confirm(order_id, body([(item, 1)]))

    assert response.status_code == 400
    assert words in response.json()["errors"][0]["message"]


def test_an_unknown_or_foreign_order_is_404_and_a_malformed_id_400(sandbox: Sandbox) -> None:
    order_id = sandbox.order()
    (item,) = sandbox.item_ids(order_id)
    good = body([(item, 1)])

    assert sandbox.confirm("999-9999999-9999999", good).status_code == 404
    assert sandbox.confirm("not-an-order", good).status_code == 400
    not_json = sandbox.client.post(
        f"/orders/v0/orders/{order_id}/shipmentConfirmation",
        content=b"{not json",
        headers={**sandbox.headers, "content-type": "application/json"},
    )
    assert not_json.status_code == 400


def test_carrier_other_shows_the_carrier_name_and_a_late_ship_date_is_kept(
    sandbox: Sandbox,
) -> None:
    order_id = sandbox.order(ship_by="2026-01-11T00:00:00Z")
    (item,) = sandbox.item_ids(order_id)

    response = sandbox.confirm(
        order_id,
        body(
            [(item, 1)],
            carrierCode="Other",
            carrierName="Acme Couriers",
            shippingMethod=None,
            orderItems=[{"orderItemId": item, "quantity": 1, "transparencyCodes": ["AZ:1"]}],
        ),
    )

    assert response.status_code == 204, response.text
    (package,) = sandbox.get_order(order_id)["packages"]
    assert package["carrier"] == "Acme Couriers"
    assert "shippingService" not in package
    assert package["packageItems"] == [
        {"orderItemId": item, "quantity": 1, "transparencyCodes": ["AZ:1"]}
    ]
    stored = sandbox.view(order_id)["packages"][0]
    assert stored["carrier_code"] == "Other"
    assert stored["late"] is True  # shipped 09:30 on the 11th, due by midnight


def test_a_lost_response_is_applied_once_and_the_resend_edits(sandbox: Sandbox) -> None:
    order_id, first, second = two_line_order(sandbox)
    sandbox.client.post(
        "/_sandbox/faults",
        json={"operation": "ordersV0.confirmShipment", "kind": "lose_response"},
    )
    package = body([(first, 2), (second, 1)])

    with pytest.raises(httpx.RemoteProtocolError):
        sandbox.confirm(order_id, package)
    applied = sandbox.view(order_id)
    assert applied["status"] == "SHIPPED" and len(applied["packages"]) == 1

    assert sandbox.confirm(order_id, package).status_code == 204
    assert len(sandbox.view(order_id)["packages"]) == 1
    calls = sandbox.client.get(
        "/_sandbox/calls", params={"operation": "ordersV0.confirmShipment"}
    ).json()["calls"]
    assert [(c["status"], c["fault"]) for c in calls] == [(204, "lose_response"), (204, None)]


def test_a_server_error_fault_applies_nothing(sandbox: Sandbox) -> None:
    order_id = sandbox.order()
    (item,) = sandbox.item_ids(order_id)
    sandbox.client.post(
        "/_sandbox/faults", json={"operation": "ordersV0.confirmShipment", "kind": "503"}
    )

    assert sandbox.confirm(order_id, body([(item, 1)])).status_code == 503
    assert sandbox.view(order_id)["packages"] == []


def test_confirm_shipment_goes_through_its_rate_bucket() -> None:
    """Amazon's plan is 2/s with a burst of 10: a quick burst of 15 meets a 429."""
    with running_sandbox() as handle, httpx.Client(base_url=handle.base_url) as client:
        sandbox = Sandbox(handle, client)
        order_id = sandbox.order(items=[{"sku": "A-1", "quantity": 1, "unit_price": "1.00"}])
        (item,) = sandbox.item_ids(order_id)
        statuses = [sandbox.confirm(order_id, body([(item, 1)])).status_code for _ in range(15)]

    assert statuses[:10] == [204] * 10
    assert 429 in statuses[10:]
