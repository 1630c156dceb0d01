"""The conformance requests of the Reports API: the world's settlement reports (its EUR group
closed when the world was built), listed, read and downloaded, and createReport."""

from __future__ import annotations

from typing import Any

import httpx

from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.infra.amazon.sandbox.conformance.world import (
    Case,
    Request,
    World,
    create,
    unauthenticated,
    with_fault,
)

SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
REPORTS = "/reports/2021-06-30/reports"


def get_reports(**params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        return w.client.get(REPORTS, params=params, headers=w.headers)

    return send


def get_reports_page_two(w: World) -> httpx.Response:
    """Two kinds of report, one a page: the second page by the first's nextToken alone."""
    create_report(reportType="GET_FLAT_FILE_OPEN_LISTINGS_DATA")(w)
    first = get_reports(reportTypes=f"{SETTLEMENT},GET_FLAT_FILE_OPEN_LISTINGS_DATA", pageSize=1)(w)
    return get_reports(nextToken=first.json()["nextToken"])(w)


def settlement(w: World, gzipped: bool = False) -> dict[str, Any]:
    """A settlement report of the world (a new one, closed now, when it must be gzipped)."""
    if gzipped:
        w.client.post("/_sandbox/report-settings", json={"gzip": True})
        try:
            create(w.client, status="SHIPPED", marketplace_id="A1PA6795UKMFR9")
            closed = w.client.post(
                "/_sandbox/settlements/close",
                json={"seller_id": DEMO_SELLER.seller_id, "currency": "EUR"},
            )
            assert closed.status_code == 201, closed.text
            report: dict[str, Any] = closed.json()["reports"][0]
            return report
        finally:
            w.client.post("/_sandbox/report-settings", json={"gzip": False})
    listed = w.client.get("/_sandbox/reports", params={"seller_id": DEMO_SELLER.seller_id})
    found: dict[str, Any] = next(r for r in listed.json()["reports"] if r["settlement_id"])
    return found


def get_report(report_id: str = "") -> Request:
    def send(w: World) -> httpx.Response:
        wanted = report_id or settlement(w)["reportId"]
        return w.client.get(f"{REPORTS}/{wanted}", headers=w.headers)

    return send


def get_report_document(document_id: str = "", gzipped: bool = False, **params: Any) -> Request:
    def send(w: World) -> httpx.Response:
        wanted = document_id or settlement(w, gzipped)["reportDocumentId"]
        return w.client.get(
            f"/reports/2021-06-30/documents/{wanted}", params=params, headers=w.headers
        )

    return send


def create_report(body: Any = None, **spec: Any) -> Request:
    def send(w: World) -> httpx.Response:
        sent = body if body is not None else {"marketplaceIds": ["ATVPDKIKX0DER"], **spec}
        return w.client.post(REPORTS, json=sent, headers=w.headers)

    return send


def order_report(w: World, done: bool = True) -> dict[str, Any]:
    """An order report of the world's orders (the last 30 days), done or still queued."""
    created = create_report(reportType=ORDERS)(w)
    assert created.status_code == 202, created.text
    if done:
        w.handle.state.advance_clock(10)
    got = w.client.get(f"{REPORTS}/{created.json()['reportId']}", headers=w.headers)
    assert got.status_code == 200, got.text
    drawn: dict[str, Any] = got.json()
    return drawn


def get_order_report(done: bool) -> Request:
    def send(w: World) -> httpx.Response:
        report_id = order_report(w, done)["reportId"]
        return w.client.get(f"{REPORTS}/{report_id}", headers=w.headers)

    return send


def get_order_report_document(w: World) -> httpx.Response:
    document_id = order_report(w)["reportDocumentId"]
    return w.client.get(f"/reports/2021-06-30/documents/{document_id}", headers=w.headers)


REPORT_CASES: dict[str, list[Case]] = {
    "reports.getReports": [
        Case("settlements", 200, get_reports(reportTypes=SETTLEMENT)),
        Case(
            "filters",
            200,
            get_reports(
                reportTypes=SETTLEMENT,
                processingStatuses="DONE",
                marketplaceIds="A1PA6795UKMFR9",
                pageSize=100,
            ),
        ),
        Case("second page", 200, get_reports_page_two),
        Case("no reportTypes", 400, get_reports(pageSize=10)),
        Case("nextToken and more", 400, get_reports(nextToken="x", reportTypes=SETTLEMENT)),
        Case("bad token", 400, get_reports(nextToken="nonsense")),
        Case("page size", 400, get_reports(reportTypes=SETTLEMENT, pageSize=101)),
        Case("bad status", 400, get_reports(reportTypes=SETTLEMENT, processingStatuses="NOPE")),
        Case("bad token header", 403, unauthenticated(get_reports(reportTypes=SETTLEMENT))),
        Case(
            "429 fault",
            429,
            with_fault("reports.getReports", "429", get_reports(reportTypes=SETTLEMENT)),
        ),
    ],
    "reports.getReport": [
        Case("a settlement", 200, get_report()),
        Case("an order report, queued", 200, get_order_report(done=False)),
        Case("an order report, done", 200, get_order_report(done=True)),
        Case("malformed id", 400, get_report("not-a-number")),
        Case("unknown", 404, get_report("99999999999")),
        Case("500 fault", 500, with_fault("reports.getReport", "500", get_report())),
    ],
    "reports.getReportDocument": [
        Case("plain", 200, get_report_document()),
        Case("an order report", 200, get_order_report_document),
        Case("gzipped", 200, get_report_document(gzipped=True)),
        Case(
            "gzipped, content encoding",
            200,
            get_report_document(gzipped=True, enableContentEncodingUrlHeader="true"),
        ),
        Case("unknown", 404, get_report_document("amzn1.spdoc.1.4.na.nope")),
        Case("bad flag", 400, get_report_document(enableContentEncodingUrlHeader="maybe")),
        Case("bad token header", 403, unauthenticated(get_report_document())),
    ],
    "reports.createReport": [
        Case(
            "another type: accepted",
            202,
            create_report(reportType="GET_MERCHANT_LISTINGS_ALL_DATA"),
        ),
        Case("a settlement: refused", 400, create_report(reportType=SETTLEMENT)),
        Case(
            "an order report with its window",
            202,
            create_report(
                reportType=ORDERS,
                dataStartTime="2026-01-01T00:00:00Z",
                dataEndTime="2026-01-31T00:00:00Z",
            ),
        ),
        Case(
            "an order report ending before it starts",
            400,
            create_report(
                reportType=ORDERS,
                dataStartTime="2026-01-31T00:00:00Z",
                dataEndTime="2026-01-01T00:00:00Z",
            ),
        ),
        Case("no reportType", 400, create_report()),
        Case(
            "not a marketplace of the seller",
            400,
            create_report(body={"reportType": "X", "marketplaceIds": ["A1VC38T7YXB528"]}),
        ),
        Case("not an object", 400, create_report(body=[1])),
        Case(
            "503 fault",
            503,
            with_fault("reports.createReport", "503", create_report(reportType="X")),
        ),
    ],
}
