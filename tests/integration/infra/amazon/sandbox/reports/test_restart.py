"""A restarted sandbox keeps its settlement reports, their documents, the early closes of its
financial event groups and the report settings: the same reports, the same bytes, and a
period closed before the restart is not settled twice after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.infra.amazon.sandbox.sandbox_process import SandboxProcess, access_token

pytestmark = pytest.mark.integration

REPORTS = "/reports/2021-06-30/reports"
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    process = SandboxProcess(tmp_path / "data")
    try:
        yield process
    finally:
        process.kill()


def _reports(client: httpx.Client) -> list[dict[str, Any]]:
    headers = access_token(client)
    listed = client.get(REPORTS, params={"reportTypes": SETTLEMENT}, headers=headers)
    assert listed.status_code == 200, listed.text
    reports: list[dict[str, Any]] = listed.json()["reports"]
    return reports


def _documents(client: httpx.Client) -> dict[str, str]:
    listed = client.get("/_sandbox/reports").json()["reports"]
    return {
        r["reportId"]: client.get(f"/_sandbox/reports/{r['reportId']}/document").text
        for r in listed
    }


def test_a_restart_keeps_the_reports_and_their_documents(sandbox: SandboxProcess) -> None:
    sandbox.start()
    with httpx.Client(base_url=sandbox.base_url) as client:
        client.post("/_sandbox/report-settings", json={"gzip": True, "promotion_id": False})
        for marketplace in ("ATVPDKIKX0DER", "A1PA6795UKMFR9"):
            made = client.post(
                "/_sandbox/orders", json={"status": "SHIPPED", "marketplace_id": marketplace}
            )
            assert made.status_code == 201, made.text
        closed = client.post(
            "/_sandbox/settlements/close", json={"seller_id": DEMO_SELLER.seller_id}
        )
        assert closed.status_code == 201, closed.text
        before = _reports(client)
        documents = _documents(client)
        groups = client.get("/_sandbox/finances/groups").json()
        sandbox.wait_until_saved()
    assert len(before) == 2
    assert sandbox.stop() == 0

    sandbox.start()
    with httpx.Client(base_url=sandbox.base_url) as client:
        assert _reports(client) == before
        assert _documents(client) == documents
        assert client.get("/_sandbox/finances/groups").json() == groups  # the early close kept
        assert client.get("/_sandbox/report-settings").json() == {
            "gzip": True,
            "promotion_id": False,
        }
        again = client.post(
            "/_sandbox/settlements/close", json={"seller_id": DEMO_SELLER.seller_id}
        )
        assert again.status_code == 409  # nothing new to settle: the closed groups were settled
        assert len(_reports(client)) == 2
