"""The conformance requests of the Reports API: the world's settlement reports (its EUR group
closed when the world was built), listed, read and downloaded, and createReport."""

from __future__ import annotations

from typing import Any

import httpx

from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.infra.amazon.sandbox.conformance.world import Request, World, create

SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
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
