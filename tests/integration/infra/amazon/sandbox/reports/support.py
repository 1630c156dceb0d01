"""What the reports tests share: a second seller selling in Germany and Sweden, a period
closed now, and a settlement report fetched as a client does (getReports, getReportDocument,
the download, gunzipped when Amazon says GZIP) and read with the production reader."""

from __future__ import annotations

import gzip
from typing import Any

import httpx

from domain.payouts import SetAsideLine, SettlementLine, SettlementSummary
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.amazon.translate.settlements import read_settlement
from tests.integration.infra.amazon.sandbox.feeds.support import Sandbox

SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
REPORTS = "/reports/2021-06-30/reports"
EU_SELLER = "A1SANDBOXEUROPE"
GERMANY, SWEDEN, US = "A1PA6795UKMFR9", "A2NODRKZP88ZB9", "ATVPDKIKX0DER"

Read = tuple[SettlementSummary, list[SettlementLine], list[SetAsideLine]]


def add_eu_seller(sandbox: Sandbox) -> dict[str, str]:
    """A seller selling in Germany and Sweden; its SP-API headers."""
    seller = {
        "seller_id": EU_SELLER,
        "refresh_token": "Atzr|sandbox-eu-seller",
        "client_id": DEMO_SELLER.client_id,
        "client_secret": DEMO_SELLER.client_secret,
        "marketplace_ids": [GERMANY, SWEDEN],
    }
    added = sandbox.client.post("/_sandbox/sellers", json=seller)
    assert added.status_code == 201, added.text
    token = sandbox.client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": seller["refresh_token"],
            "client_id": seller["client_id"],
            "client_secret": seller["client_secret"],
        },
    )
    assert token.status_code == 200, token.text
    return {"x-amz-access-token": str(token.json()["access_token"])}


def close(sandbox: Sandbox, seller_id: str = DEMO_SELLER.seller_id, **more: str) -> Any:
    closed = sandbox.client.post(
        "/_sandbox/settlements/close", json={"seller_id": seller_id, **more}
    )
    assert closed.status_code == 201, closed.text
    return closed.json()["reports"]


def list_reports(sandbox: Sandbox, headers: dict[str, str], **params: Any) -> Any:
    listed = sandbox.client.get(
        REPORTS, params={"reportTypes": SETTLEMENT, **params}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    return listed.json()


def document(sandbox: Sandbox, headers: dict[str, str], document_id: str) -> dict[str, Any]:
    answer = sandbox.client.get(f"/reports/2021-06-30/documents/{document_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    drawn: dict[str, Any] = answer.json()
    return drawn


def download_text(sandbox: Sandbox, headers: dict[str, str], report: dict[str, Any]) -> str:
    """The report's document as a client gets it: the URL downloaded, gunzipped if GZIP."""
    drawn = document(sandbox, headers, report["reportDocumentId"])
    downloaded = httpx.get(drawn["url"])
    assert downloaded.status_code == 200, downloaded.text
    content = downloaded.content
    if drawn.get("compressionAlgorithm") == "GZIP":
        content = gzip.decompress(content)
    return content.decode("utf-8")


def read(text: str) -> Read:
    summary, *rest = read_settlement(text.splitlines(keepends=True))
    assert isinstance(summary, SettlementSummary)
    lines = [line for line in rest if isinstance(line, SettlementLine)]
    set_aside = [line for line in rest if isinstance(line, SetAsideLine)]
    return summary, lines, set_aside


def closed_groups(sandbox: Sandbox, seller_id: str) -> dict[str, Any]:
    """The seller's closed Finances groups by id, as the control API lists them."""
    listed = sandbox.client.get("/_sandbox/finances/groups", params={"seller_id": seller_id})
    assert listed.status_code == 200, listed.text
    return {
        g["FinancialEventGroupId"]: g
        for g in listed.json()["groups"]
        if g["ProcessingStatus"] == "Closed"
    }
