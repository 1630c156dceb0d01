"""The Reports API as the sandbox plays it: getReports' filters and nextToken rules, getReport
of the caller's own reports only, getReportDocument's URL that expires, gzip or plain, and
createReport refusing settlement reports as Amazon does."""

from __future__ import annotations

import gzip
from datetime import timedelta

import httpx
import pytest

from infra.amazon.models import usage_plan
from infra.amazon.sandbox.server import running_sandbox
from infra.amazon.sandbox.state import iso
from tests.integration.infra.amazon.sandbox.feeds.support import Sandbox
from tests.integration.infra.amazon.sandbox.reports.support import (
    GERMANY,
    REPORTS,
    SETTLEMENT,
    US,
    add_eu_seller,
    close,
    document,
    list_reports,
)

pytestmark = pytest.mark.integration


def _settlements(sandbox: Sandbox, count: int) -> list[str]:
    """``count`` settlement reports of the demo seller (one closed period each), oldest first."""
    made = []
    for _ in range(count):
        sandbox.order(status="SHIPPED")
        (report,) = close(sandbox)
        made.append(report["reportId"])
        sandbox.handle.state.advance_clock(60)
    return made


def test_get_reports_pages_newest_first_with_the_token_alone(sandbox: Sandbox) -> None:
    made = _settlements(sandbox, 5)

    first = list_reports(sandbox, sandbox.headers, pageSize=2)
    pages = [first]
    while "nextToken" in pages[-1]:
        token = pages[-1]["nextToken"]
        with_more = sandbox.client.get(
            REPORTS, params={"nextToken": token, "pageSize": 2}, headers=sandbox.headers
        )
        assert with_more.status_code == 400  # nextToken must come alone
        assert "only parameter" in with_more.json()["errors"][0]["message"]
        alone = sandbox.client.get(REPORTS, params={"nextToken": token}, headers=sandbox.headers)
        assert alone.status_code == 200, alone.text
        pages.append(alone.json())

    assert [len(p["reports"]) for p in pages] == [2, 2, 1]
    assert [r["reportId"] for p in pages for r in p["reports"]] == made[::-1]
    assert sandbox.client.get(REPORTS, headers=sandbox.headers).status_code == 400  # no types


def test_get_reports_filters(sandbox: Sandbox) -> None:
    made = _settlements(sandbox, 3)
    reports = {r["reportId"]: r for r in list_reports(sandbox, sandbox.headers)["reports"]}
    middle = reports[made[1]]["createdTime"]

    def ids(**params: str) -> list[str]:
        return [r["reportId"] for r in list_reports(sandbox, sandbox.headers, **params)["reports"]]

    assert ids(createdSince=middle) == [made[2], made[1]]
    assert ids(createdUntil=middle) == [made[1], made[0]]
    assert ids(createdSince=middle, createdUntil=middle) == [made[1]]
    assert ids(marketplaceIds=GERMANY) == []
    assert ids(marketplaceIds=f"{GERMANY},{US}") == made[::-1]
    assert ids(processingStatuses="DONE") == made[::-1]
    assert ids(processingStatuses="IN_QUEUE,FATAL") == []
    old = iso(sandbox.handle.state.now() - timedelta(days=200))
    assert ids(createdSince=old) == made[::-1]
    other_type = sandbox.client.get(
        REPORTS, params={"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA"}, headers=sandbox.headers
    )
    assert other_type.json() == {"reports": []}
    for bad in (
        {"pageSize": "0"},
        {"pageSize": "101"},
        {"processingStatuses": "DONE,NOPE"},
        {"createdUntil": old},  # before createdSince's default, 90 days ago
        {"createdSince": "last week"},
    ):
        answer = sandbox.client.get(
            REPORTS, params={"reportTypes": SETTLEMENT, **bad}, headers=sandbox.headers
        )
        assert answer.status_code == 400, bad


def test_reports_are_listed_90_days(sandbox: Sandbox) -> None:
    _settlements(sandbox, 1)
    sandbox.handle.state.advance_clock(timedelta(days=91).total_seconds())
    sandbox.log_in()

    assert list_reports(sandbox, sandbox.headers)["reports"] == []


def test_a_report_of_another_seller_does_not_exist(sandbox: Sandbox) -> None:
    (report_id,) = _settlements(sandbox, 1)
    eu_headers = add_eu_seller(sandbox)

    own = sandbox.client.get(f"{REPORTS}/{report_id}", headers=sandbox.headers)
    other = sandbox.client.get(f"{REPORTS}/{report_id}", headers=eu_headers)

    assert own.status_code == 200 and own.json()["reportType"] == SETTLEMENT
    assert other.status_code == 404
    assert list_reports(sandbox, eu_headers)["reports"] == []
    document_id = own.json()["reportDocumentId"]
    assert (
        sandbox.client.get(
            f"/reports/2021-06-30/documents/{document_id}", headers=eu_headers
        ).status_code
        == 404
    )


def test_the_document_url_expires_after_five_minutes(sandbox: Sandbox) -> None:
    (report_id,) = _settlements(sandbox, 1)
    document_id = sandbox.client.get(f"{REPORTS}/{report_id}", headers=sandbox.headers).json()[
        "reportDocumentId"
    ]
    url = document(sandbox, sandbox.headers, document_id)["url"]

    assert url.startswith(sandbox.handle.base_url)
    assert httpx.get(url).status_code == 200
    sandbox.handle.state.advance_clock(4 * 60)
    assert httpx.get(url).status_code == 200
    sandbox.handle.state.advance_clock(61)
    expired = httpx.get(url)
    assert expired.status_code == 403
    assert httpx.get(url.split("?")[0]).status_code == 403  # no expiry: not signed
    sandbox.log_in()
    fresh = document(sandbox, sandbox.headers, document_id)["url"]
    assert httpx.get(fresh).status_code == 200  # a new URL for the same document


def test_a_document_stored_gzipped_says_so_and_a_plain_one_does_not(sandbox: Sandbox) -> None:
    sandbox.order(status="SHIPPED")
    (plain,) = close(sandbox)
    sandbox.client.post("/_sandbox/report-settings", json={"gzip": True})
    assert sandbox.client.get("/_sandbox/report-settings").json()["gzip"] is True
    sandbox.order(status="SHIPPED")
    (zipped,) = close(sandbox)

    plain_doc = document(sandbox, sandbox.headers, plain["reportDocumentId"])
    zipped_doc = document(sandbox, sandbox.headers, zipped["reportDocumentId"])
    plain_bytes = httpx.get(plain_doc["url"]).content
    zipped_bytes = httpx.get(zipped_doc["url"]).content

    assert "compressionAlgorithm" not in plain_doc
    assert zipped_doc["compressionAlgorithm"] == "GZIP"
    assert plain_bytes.startswith(b"settlement-id\t")
    assert zipped_bytes[:2] == b"\x1f\x8b"
    assert gzip.decompress(zipped_bytes).startswith(b"settlement-id\t")
    encoded = sandbox.client.get(
        f"/reports/2021-06-30/documents/{zipped['reportDocumentId']}",
        params={"enableContentEncodingUrlHeader": "true"},
        headers=sandbox.headers,
    ).json()
    served = httpx.get(encoded["url"])  # httpx decodes Content-Encoding: gzip itself
    assert served.headers["content-encoding"] == "gzip"
    assert served.content.startswith(b"settlement-id\t")


def test_create_report_refuses_settlement_reports_as_amazon_does(sandbox: Sandbox) -> None:
    def create(report_type: str) -> httpx.Response:
        return sandbox.client.post(
            REPORTS,
            json={"reportType": report_type, "marketplaceIds": [US]},
            headers=sandbox.headers,
        )

    refused = create(SETTLEMENT)
    accepted = create("GET_MERCHANT_LISTINGS_ALL_DATA")

    assert refused.status_code == 400
    assert refused.json() == {
        "errors": [
            {
                "code": "InvalidInput",
                "message": "Request for report type 1118 is not allowed at this time",
                "details": "",
            }
        ]
    }
    assert create("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE").status_code == 400
    assert accepted.status_code == 202
    report = sandbox.client.get(
        f"{REPORTS}/{accepted.json()['reportId']}", headers=sandbox.headers
    ).json()
    assert report["processingStatus"] == "CANCELLED"  # the sandbox has no such data
    assert "reportDocumentId" not in report


def test_get_reports_has_amazons_usage_plan() -> None:
    plan = usage_plan("reports.getReports")
    with running_sandbox() as handle, httpx.Client(base_url=handle.base_url) as client:
        sandbox = Sandbox(handle, client)
        params = {"reportTypes": SETTLEMENT}
        statuses = [
            client.get(REPORTS, params=params, headers=sandbox.headers).status_code
            for _ in range(plan.burst)
        ]
        throttled = client.get(REPORTS, params=params, headers=sandbox.headers)

    assert (plan.rate, plan.burst) == (0.0222, 10)
    assert statuses == [200] * plan.burst
    assert throttled.status_code == 429
