"""The operator page's payouts in a real headless browser, on a settlement fetched from the
sandbox over HTTP into the real store: Amazon's period closes with the demo seller's shipped
orders and one order the store has never seen; the page lists the payout, its statement shows
the totals and the check to the cent, the line that matches nothing with its reason, what each
order earned, and the CSV downloads with one row per line of Amazon's report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain.payouts.fetch import fetch_settlements
from infra.amazon.gateways.settlements import SpApiSettlements
from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.payouts import SqlPayoutStore
from infra.platform import payloads
from infra.settings import Settings
from tests.browser.conftest import needs_browser, shot
from tests.integration.workers.scenarios import TOKEN, fulfil_env, on_sandbox, web_process
from workers import bootstrap
from workers.demo import ensure_demo_account

pytestmark = [pytest.mark.integration, needs_browser]

SHIPPED = 6
MARKETPLACE = "ATVPDKIKX0DER"


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=0) as handle:
        yield handle


def _a_fetched_settlement(sandbox: SandboxHandle, settings: Settings) -> tuple[int, int, str]:
    """Shipped orders synced, one more the store never sees, the period closed and fetched:
    (the payout's row id, its line count, the unknown order's id)."""
    bootstrap.use(on_sandbox(settings, sandbox, 0), patient=True)
    try:
        create_bulk(
            sandbox.state, SHIPPED, seller_id=DEMO_SELLER.seller_id, marketplace_id=MARKETPLACE,
            fulfilled_by=None, status="SHIPPED", items_per_order=1, spread_seconds=600, seed=21,
        )  # fmt: skip
        sandbox.state.advance_clock(180)
        assert bootstrap.sync_account("demo").created == SHIPPED
        (unknown,) = create_bulk(
            sandbox.state, 1, seller_id=DEMO_SELLER.seller_id, marketplace_id=MARKETPLACE,
            fulfilled_by=None, status="SHIPPED", items_per_order=1, spread_seconds=0, seed=22,
        )  # fmt: skip
        closed = httpx.post(
            f"{sandbox.base_url}/_sandbox/settlements/close",
            json={"seller_id": DEMO_SELLER.seller_id},
            timeout=30,
        )
        assert closed.status_code == 201, closed.text
        sandbox.state.advance_clock(180)
        c = bootstrap.container()
        account_id = bootstrap.active_account_ids()[0]
        store = SqlPayoutStore(c.engine, payloads.encode)
        since = sandbox.state.now() - timedelta(days=30)
        (statement,) = fetch_settlements(
            account_id, SpApiSettlements(c.amazon_client_for), store, since=since
        ).finished
        (listed,) = store.list_settlements(account_id=account_id)
        return listed.id, statement.lines, unknown
    finally:
        bootstrap.reset_and_close()


def test_an_operator_sees_a_payout_its_statement_and_downloads_its_lines(
    sandbox: SandboxHandle,
    child_env: dict[str, str],
    settings: Settings,
    session_factory: sessionmaker[Session],
    clean_db: object,
    tmp_path: Path,
    browser_page: Any,
) -> None:
    from playwright.sync_api import expect

    ensure_demo_account(session_factory)
    payout_id, lines, unknown = _a_fetched_settlement(sandbox, settings)
    env = {**fulfil_env(child_env, sandbox, 0), "DATA_DIR": str(tmp_path / "data")}
    page = browser_page
    with web_process(env, tmp_path) as base:
        page.goto(f"{base}/ops/payouts")
        expect(page.locator("h1")).to_have_text("Sign in")
        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        expect(page.locator("h1").first).to_have_text("Health")
        page.click("nav >> text=Payouts")

        row = page.locator(f"#payout-{payout_id}")
        expect(row).to_contain_text("demo")
        expect(row).to_contain_text("USD")
        state = row.locator("td").nth(6)
        expect(state).to_have_text("reconciled")
        shot(page, "payouts")

        row.locator("a").first.click()
        expect(page.locator("#state")).to_have_text("reconciled")
        totals = page.locator("#totals")
        expect(totals).to_contain_text("sales")
        expect(totals.locator("tr", has_text="difference")).to_contain_text("0.00 USD")
        unmatched = page.locator("#unmatched")
        expect(unmatched).to_contain_text(unknown)
        expect(unmatched).to_contain_text("order")
        # Every order the lines name, the unknown one included (its money is still its own).
        expect(page.locator("#orders tbody tr")).to_have_count(SHIPPED + 1)
        shot(page, "statement")

        download = page.request.get(base + (page.locator("#csv").get_attribute("href") or ""))
        assert download.status == 200
        assert download.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(download.text())))
        assert len(rows) == lines
        deposit = page.locator("#totals tr", has_text="deposit").locator("td").inner_text()
        assert sum(Decimal(r["amount"]) for r in rows) == Decimal(deposit.split()[0])

        missing = page.goto(f"{base}/ops/payouts/999999")
        assert missing is not None and missing.status == 404
        expect(page.locator(".error")).to_have_text("no payout 999999")
        outside = httpx.get(f"{base}/ops/payouts/{payout_id}/csv", timeout=30)
        assert outside.status_code in (303, 401, 403) or "Sign in" in outside.text
