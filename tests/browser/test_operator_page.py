"""The operator page in a real headless browser (Debian's ``chromium``, driven by Playwright
with ``executable_path``: no browser is downloaded). Everything else is real too: the web
process, a fulfil worker, the sandbox over HTTP, the embedded PostgreSQL and Redis.

The operations issue's whole scenario: the sandbox answers confirmShipment 400 once; the failure
shows in ``amazon-channel status`` (unhealthy), the order's timeline (the call, its 400 and
Amazon's code), ``failures list`` and ``/metrics``; then, in one browser and one page session:
sign in with an API token, see the health and the account, find the fulfilment Amazon refused,
press Retry, and see it confirmed on Amazon once.

Without chromium the test is skipped, unless ``REQUIRE_BROWSER`` is set (CI sets it: there a
missing browser fails the run instead of hiding it). ``SCREENSHOT_DIR``, when set, receives a
screenshot of each page visited (the README's picture)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import Fault
from infra.db.tables import Fulfilment
from infra.settings import Settings
from tests.browser.conftest import needs_browser, shot
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.scenarios import (
    CONFIRM_SHIPMENT,
    TOKEN,
    fulfil_env,
    fulfilment_body,
    on_sandbox,
    project_app,
    shipped_at_now,
    synced_merchant_orders,
    web_process,
)
from workers.demo import ensure_demo_account

RATE_FACTOR = 50.0

pytestmark = [pytest.mark.integration, needs_browser]


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def env(child_env: dict[str, str], sandbox: SandboxHandle, tmp_path: Path) -> dict[str, str]:
    # The web process keeps its session key in this data folder, not the checkout's.
    return {**fulfil_env(child_env, sandbox, RATE_FACTOR), "DATA_DIR": str(tmp_path / "data")}


def _state(engine: Engine, fulfilment_id: int) -> str:
    with engine.connect() as conn:
        found = conn.execute(select(Fulfilment.state).where(Fulfilment.id == fulfilment_id))
        return str(found.scalar_one())


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _the_failure_shows_everywhere(
    env: dict[str, str], base: str, amazon_order_id: str, fulfilment_id: int
) -> None:
    """The fault Amazon answered shows in the status, the order's timeline, the failures list
    and the metrics, before anyone opens the page."""
    status = _cli(env, "status", "--json")
    assert status.returncode == 1, status.stdout + status.stderr
    assert any("failure" in p for p in json.loads(status.stdout)["problems"]), status.stdout

    timeline = _cli(env, "orders", "timeline", amazon_order_id, "--json")
    assert timeline.returncode == 0, timeline.stderr
    calls = [e for e in json.loads(timeline.stdout)["entries"] if e["kind"] == "spapi"]
    refused = [e for e in calls if e["failed"] and e["details"]["status"] == 400]
    assert refused, calls
    assert refused[0]["details"]["error_code"] == "InvalidInput"

    failures = _cli(env, "failures", "list")
    assert failures.returncode == 0, failures.stderr
    assert f"fulfilment:{fulfilment_id}" in failures.stdout

    metrics = httpx.get(f"{base}/metrics", timeout=30).text
    assert 'amazon_channel_fulfilments{state="failed"} 1.0' in metrics
    assert 'amazon_channel_failures{code="InvalidInput",kind="fulfilment"} 1.0' in metrics


def test_an_operator_signs_in_sees_the_failure_and_a_retry_confirms_it_on_amazon(
    sandbox: SandboxHandle,
    env: dict[str, str],
    settings: Settings,
    session_factory: sessionmaker[Session],
    clean_db: Engine,
    broker_url: str,
    tmp_path: Path,
    browser_page: Any,
) -> None:
    from playwright.sync_api import expect

    ensure_demo_account(session_factory)
    (order,) = synced_merchant_orders(sandbox, on_sandbox(settings, sandbox, RATE_FACTOR), 1)
    sandbox.state.add_fault(Fault(operation=CONFIRM_SHIPMENT, kind="400", count=1))
    page = browser_page
    with project_app(broker_url), web_process(env, tmp_path) as base:
        worker = WorkerProcess("fulfil", env, tmp_path / "fulfil.log")
        worker.start()
        try:
            answer = httpx.post(
                f"{base}/v1/fulfilments",
                json=fulfilment_body("F-page", order, shipped_at_now()),
                headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": str(uuid.uuid4())},
                timeout=30,
            )
            assert answer.status_code == 201, answer.text
            fulfilment_id = answer.json()["fulfilment_id"]
            wait_for(lambda: _state(clean_db, fulfilment_id) == "failed", 60)
            _the_failure_shows_everywhere(env, base, order[0], fulfilment_id)

            # Not signed in: the page asks for a token, and refuses a wrong one.
            page.goto(f"{base}/ops/")
            expect(page.locator("h1")).to_have_text("Sign in")
            page.fill("#token", "not-a-token")
            page.click("button[type=submit]")
            expect(page.locator(".error")).to_contain_text("not a valid API token")
            page.fill("#token", TOKEN)
            page.click("button[type=submit]")

            # The overview: health and the account.
            expect(page.locator("#health")).to_contain_text("postgres ok")
            expect(page.locator("#health")).to_contain_text("redis ok")
            expect(page.locator("#accounts")).to_contain_text("demo")
            expect(page.locator("#accounts")).to_contain_text("active")
            shot(page, "overview")
            (cookie,) = page.context.cookies()
            assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (
                True,
                True,
                "Strict",
            )
            assert TOKEN not in cookie["value"]

            # A POST without the session's CSRF token changes nothing.
            forged = page.request.post(f"{base}/ops/fulfilments/{fulfilment_id}/retry", form={})
            assert forged.status == 403
            assert _state(clean_db, fulfilment_id) == "failed"

            # The failure, with Amazon's reason, and its retry button.
            page.click("nav >> text=Failures")
            row = page.locator(f"#fulfilment-{fulfilment_id}")
            expect(row).to_contain_text("InvalidInput")
            shot(page, "failures")
            row.locator("button", has_text="Retry").click()
            expect(page.locator(".said")).to_contain_text(
                f"fulfilment {fulfilment_id} accepted again"
            )
            wait_for(lambda: _state(clean_db, fulfilment_id) == "confirmed", 60)
            page.reload()
            expect(page.locator(f"#fulfilment-{fulfilment_id}")).to_have_count(0)
            expect(page.locator(".empty")).to_have_text("Nothing failed.")
        finally:
            worker.stop()

    confirms = [c for c in sandbox.state.call_log(CONFIRM_SHIPMENT, limit=100) if not c.fault]
    assert len(confirms) == 1, "confirmed on Amazon once"
    assert len(sandbox.state.order(order[0]).packages) == 1
