"""The order report ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`` as the sandbox
plays it: requested with a data window, processed on the sandbox clock, its tab-separated
document drawn from the same orders as searchOrders (Amazon's columns, one row per item), gzip
or not, and cancelled when no order falls in the window."""

from __future__ import annotations

import csv
from typing import Any

import pytest

from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.infra.amazon.sandbox.feeds.support import Sandbox
from tests.integration.infra.amazon.sandbox.reports.support import REPORTS, US, download_text

pytestmark = pytest.mark.integration

ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
HEADER = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\t"
    "fulfillment-channel\tsales-channel\torder-channel\turl\tship-service-level\tproduct-name\t"
    "sku\tasin\titem-status\tquantity\tcurrency\titem-price\titem-tax\tshipping-price\t"
    "shipping-tax\tgift-wrap-price\tgift-wrap-tax\titem-promotion-discount\t"
    "ship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\t"
    "promotion-ids\tis-business-order\tpurchase-order-number\tprice-designation"
)


def _request(sandbox: Sandbox, **spec: Any) -> str:
    body = {"reportType": ORDERS, "marketplaceIds": [US], **spec}
    created = sandbox.client.post(REPORTS, json=body, headers=sandbox.headers)
    assert created.status_code == 202, created.text
    return str(created.json()["reportId"])


def _report(sandbox: Sandbox, report_id: str) -> dict[str, Any]:
    got = sandbox.client.get(f"{REPORTS}/{report_id}", headers=sandbox.headers)
    assert got.status_code == 200, got.text
    drawn: dict[str, Any] = got.json()
    return drawn


def test_an_order_report_is_queued_processed_and_done_on_the_sandbox_clock(
    sandbox: Sandbox,
) -> None:
    first, _ = sandbox.order(status="SHIPPED", created_time="2026-01-10T12:00:00Z")
    second, items = sandbox.order(
        status="UNSHIPPED",
        created_time="2026-01-12T12:00:00Z",
        items=[{"sku": "MUG-2", "quantity": 2}, {"sku": "CUP-1", "quantity": 1}],
    )
    sandbox.order(status="SHIPPED", created_time="2026-03-01T12:00:00Z")  # outside the window
    report_id = _request(
        sandbox, dataStartTime="2026-01-09T00:00:00Z", dataEndTime="2026-01-31T00:00:00Z"
    )

    seen = [_report(sandbox, report_id)["processingStatus"]]
    for _ in range(3):
        sandbox.handle.state.advance_clock(2)
        seen.append(_report(sandbox, report_id)["processingStatus"])
    assert seen[0] == "IN_QUEUE" and "IN_PROGRESS" in seen and seen[-1] == "DONE"

    report = _report(sandbox, report_id)
    assert report["dataStartTime"] == "2026-01-09T00:00:00Z"
    text = download_text(sandbox, sandbox.headers, report)
    assert text.splitlines()[0] == HEADER
    rows = list(csv.DictReader(text.splitlines(), delimiter="\t"))
    assert [r["amazon-order-id"] for r in rows] == [first, second, second]
    shipped = rows[0]
    assert shipped["order-status"] == "Shipped" and shipped["item-status"] == "Shipped"
    assert shipped["fulfillment-channel"] == "Merchant"
    assert shipped["sales-channel"] == "Amazon.com"
    assert shipped["purchase-date"] == "2026-01-10T12:00:00+00:00"
    open_rows = rows[1:]
    assert {r["order-status"] for r in open_rows} == {"Unshipped"}
    assert [r["quantity"] for r in open_rows] == ["2", "1"]
    assert "order-item-id" not in rows[0]  # Amazon's file has no item id
    assert len(items) == 2
    # The line totals are those searchOrders shows for the same order.
    searched = sandbox.client.get(
        f"/orders/2026-01-01/orders/{second}",
        params={"includedData": "PROCEEDS"},
        headers=sandbox.headers,
    ).json()["order"]
    principal = [
        next(b for b in i["proceeds"]["breakdowns"] if b["type"] == "ITEM")["subtotal"]["amount"]
        for i in searched["orderItems"]
    ]
    assert [r["item-price"] for r in open_rows] == principal


def test_an_order_report_with_nothing_in_its_window_is_cancelled(sandbox: Sandbox) -> None:
    report_id = _request(
        sandbox, dataStartTime="2020-01-01T00:00:00Z", dataEndTime="2020-01-02T00:00:00Z"
    )
    sandbox.handle.state.advance_clock(10)
    report = _report(sandbox, report_id)
    assert report["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in report


def test_an_order_report_document_may_be_gzipped(sandbox: Sandbox) -> None:
    order_id, _ = sandbox.order(status="SHIPPED", created_time="2026-01-10T12:00:00Z")
    sandbox.client.post("/_sandbox/report-settings", json={"gzip": True})
    report_id = _request(sandbox, dataStartTime="2026-01-09T00:00:00Z")
    sandbox.handle.state.advance_clock(10)
    report = _report(sandbox, report_id)
    drawn = sandbox.client.get(
        f"/reports/2021-06-30/documents/{report['reportDocumentId']}", headers=sandbox.headers
    ).json()
    assert drawn["compressionAlgorithm"] == "GZIP"
    assert order_id in download_text(sandbox, sandbox.headers, report)


def test_an_order_report_window_that_ends_before_it_starts_is_refused(sandbox: Sandbox) -> None:
    body = {
        "reportType": ORDERS,
        "marketplaceIds": [US],
        "dataStartTime": "2026-01-10T00:00:00Z",
        "dataEndTime": "2026-01-09T00:00:00Z",
    }
    refused = sandbox.client.post(REPORTS, json=body, headers=sandbox.headers)
    assert refused.status_code == 400
    assert "dataEndTime" in refused.json()["errors"][0]["message"]
    assert DEMO_SELLER.seller_id  # the demo seller asked; another seller's reports stay apart
