"""The payout queue end to end: beat's ``payout.fetch_all`` reaches a real payout worker, which
fetches the settlement Amazon (the sandbox, over HTTP) made when its period closed, stores it,
reconciles it and tells the platform once; the same tick again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.tables import OutboxEvent, Settlement
from infra.settings import Settings
from tests.integration.processes import wait_for, worker
from tests.integration.workers.scenarios import on_sandbox, project_app, worker_env
from workers import bootstrap
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration

RATE_FACTOR = 500.0


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    with project_app(broker_url) as app:
        yield app


def _settled(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Settlement.settlement_id, Settlement.state)).all()
    return [(str(r[0]), str(r[1])) for r in rows]


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(OutboxEvent.topic == "payouts/available")
            ).scalar_one()
        )


def test_beats_tick_fetches_the_closed_period_once(
    sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    child_env: dict[str, str],
    settings: Settings,
    clean_db: Engine,
    tmp_path: Path,
    celery_app: Any,
) -> None:
    ensure_demo_account(session_factory)
    create_bulk(
        sandbox.state, 10, seller_id=DEMO_SELLER.seller_id, marketplace_id="ATVPDKIKX0DER",
        fulfilled_by=None, status="SHIPPED", items_per_order=1, spread_seconds=600, seed=3,
    )  # fmt: skip
    sandbox.state.advance_clock(180)
    bootstrap.use(on_sandbox(settings, sandbox, RATE_FACTOR))
    try:
        assert bootstrap.sync_account("demo").created == 10
    finally:
        bootstrap.reset_and_close()
    closed = httpx.post(
        f"{sandbox.base_url}/_sandbox/settlements/close",
        json={"seller_id": DEMO_SELLER.seller_id},
        timeout=30,
    )
    assert closed.status_code == 201, closed.text
    sandbox.state.advance_clock(180)

    def listings() -> int:
        return len(sandbox.state.call_log("reports.getReports", limit=100))

    with worker("payout", worker_env(child_env, sandbox, RATE_FACTOR), tmp_path):
        celery_app.send_task("payout.fetch_all")
        wait_for(lambda: [s for _, s in _settled(clean_db)] == ["reconciled"], 60)
        downloads = len(sandbox.state.call_log("reports.getReportDocument", limit=100))
        celery_app.send_task("payout.fetch_all")
        wait_for(lambda: listings() >= 2, 60)

    assert [s for _, s in _settled(clean_db)] == ["reconciled"]
    assert _events(clean_db) == 1
    # The second tick listed the report, knew it finished, and did not download it again.
    assert len(sandbox.state.call_log("reports.getReportDocument", limit=100)) == downloads == 1
