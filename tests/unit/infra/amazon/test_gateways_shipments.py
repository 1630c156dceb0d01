"""The SP-API shipments gateway: a package becomes ``packageDetail``, Amazon's errors become the
domain's, and the read-back never waits and never raises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.fulfilments import AmazonUnavailable, Package, PackageLine, ShipmentRejected
from domain.orders import OrderStatus
from infra.amazon.errors import (
    AmazonNotFound,
    AmazonServerError,
    AmazonUnreachable,
    InvalidInput,
    RateLimitTimeout,
)
from infra.amazon.gateways import SpApiShipments, package_detail, ship_date
from infra.amazon.schemas import Order
from tests.fakes import ORDER_ID


@dataclass
class FakeClient:
    error: Exception | None = None
    sent: list[tuple[str, str, Mapping[str, Any]]] = field(default_factory=list)
    order: dict[str, Any] | None = None
    patience: list[bool] = field(default_factory=list)

    def confirm_shipment(
        self, order_id: str, marketplace_id: str, package_detail: Mapping[str, Any]
    ) -> None:
        self.sent.append((order_id, marketplace_id, package_detail))
        if self.error is not None:
            raise self.error

    def get_order(
        self, order_id: str, included_data: Sequence[str] = (), *, patient: bool = True
    ) -> Order:
        self.patience.append(patient)
        if self.error is not None:
            raise self.error
        if self.order is None:
            raise AmazonNotFound("no such order", status_code=404)
        return Order.model_validate(self.order)


PACKAGE = Package(
    package_reference_id="42",
    carrier_code="Other",
    carrier_name="Pony Express",
    shipping_method=None,
    tracking_number="PX1",
    ship_date=datetime(2026, 11, 1, 10, 30, 15, 999, tzinfo=UTC),
    lines=(),
)


def test_a_package_becomes_confirm_shipments_package_detail() -> None:
    package = replace(PACKAGE, lines=(PackageLine("ITEM-A", 2, "MUG-RED"),))
    assert package_detail(package) == {
        "packageReferenceId": "42",
        "carrierCode": "Other",
        "carrierName": "Pony Express",
        "trackingNumber": "PX1",
        "shipDate": "2026-11-01T10:30:15Z",
        "orderItems": [{"orderItemId": "ITEM-A", "quantity": 2}],
    }
    assert ship_date(datetime(2026, 1, 2, 16, 0, tzinfo=UTC).astimezone()) == (
        "2026-01-02T16:00:00Z"
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InvalidInput("Invalid shipDate", code="InvalidInput", status_code=400), ShipmentRejected),
        (AmazonNotFound("no such order", status_code=404), ShipmentRejected),
        (AmazonServerError("InternalFailure", status_code=500), AmazonUnavailable),
        (AmazonUnreachable("ReadTimeout", request_sent=True), AmazonUnavailable),
    ],
)
def test_amazons_errors_become_the_domains(error: Exception, expected: type[Exception]) -> None:
    shipments = SpApiShipments(lambda _account_id: FakeClient(error=error))
    with pytest.raises(expected):
        shipments.confirm_shipment(7, ORDER_ID, "ATVPDKIKX0DER", PACKAGE)


def test_our_own_rate_budget_tells_how_long_to_wait() -> None:
    error = RateLimitTimeout("no token", retry_after_s=900.0)
    shipments = SpApiShipments(lambda _account_id: FakeClient(error=error))
    with pytest.raises(AmazonUnavailable) as caught:
        shipments.confirm_shipment(7, ORDER_ID, "ATVPDKIKX0DER", PACKAGE)
    assert caught.value.retry_after == timedelta(minutes=15)


def test_the_read_back_finds_our_package_and_never_raises() -> None:
    raw = {
        "orderId": ORDER_ID,
        "createdTime": "2026-10-31T12:00:00Z",
        "lastUpdatedTime": "2026-11-01T12:00:00Z",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
        "fulfillment": {"fulfillmentStatus": "PARTIALLY_SHIPPED", "fulfilledBy": "MERCHANT"},
        "orderItems": [
            {
                "orderItemId": "ITEM-A",
                "quantityOrdered": 3,
                "fulfillment": {"quantityFulfilled": 1},
            }
        ],
        "packages": [
            {"packageReferenceId": "42", "packageStatus": {"status": "IN_TRANSIT"}},
        ],
    }
    found = SpApiShipments(lambda _: FakeClient(order=raw)).read_back(7, ORDER_ID, "42")
    assert found.package_listed and found.package_status == "IN_TRANSIT"
    assert found.order is not None and found.order.status is OrderStatus.PARTIALLY_SHIPPED
    assert found.order.lines[0].quantity_shipped == 1
    missing = SpApiShipments(lambda _: FakeClient()).read_back(7, ORDER_ID, "42")
    assert missing.order is None and missing.error is not None and not missing.deferred


@pytest.mark.parametrize(
    ("error", "retry_after"),
    [
        (RateLimitTimeout("no token", retry_after_s=1.5), timedelta(seconds=1.5)),
        (AmazonServerError("InternalFailure", status_code=500), None),
        (AmazonUnreachable("ReadTimeout", request_sent=True), None),
    ],
)
def test_a_read_back_that_cannot_be_made_now_is_put_off_never_waited_for(
    error: Exception, retry_after: timedelta | None
) -> None:
    client = FakeClient(error=error)
    read_back = SpApiShipments(lambda _: client).read_back(7, ORDER_ID, "42")
    assert read_back.deferred and read_back.retry_after == retry_after
    assert read_back.order is None and read_back.error
    assert client.patience == [False]


def test_a_package_naming_an_order_reports_stand_in_item_is_rejected_unsent() -> None:
    client = FakeClient()
    package = replace(
        PACKAGE, lines=(PackageLine("ITEM-A", 1, "MUG-RED"), PackageLine("R:MUG-BLUE", 1, None))
    )
    with pytest.raises(ShipmentRejected) as caught:
        SpApiShipments(lambda _: client).confirm_shipment(1, ORDER_ID, "ATVPDKIKX0DER", package)
    assert caught.value.code == "StandInItemId"
    assert client.sent == [], "nothing went to Amazon"
