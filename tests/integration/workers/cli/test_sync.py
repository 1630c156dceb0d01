"""``sync`` and ``backfill``: clear one-line errors, and a backfill that resumes after an
interruption."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER, Fault
from infra.db.accounts import get_account
from infra.db.engine import advisory_lock
from infra.db.tables import Order, SyncCursor
from workers.cli import main
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=500) as handle:
        monkeypatch.setenv("AMAZON_REGION", "SANDBOX")
        monkeypatch.setenv("SPAPI_ENDPOINT", handle.base_url)
        monkeypatch.setenv("SANDBOX_RATE_FACTOR", "500")
        monkeypatch.setenv("SYNC_PAGE_SIZE", "25")
        yield handle


@pytest.fixture
def demo_account(session_factory: sessionmaker[Session]) -> str:
    ensure_demo_account(session_factory)
    return "demo"


def test_syncing_an_unknown_account_is_a_one_line_error(clean_db: Engine) -> None:
    result = CliRunner().invoke(main, ["sync", "nobody"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: account: no account 'nobody'"


def test_backfill_with_a_date_in_the_future_is_refused(clean_db: Engine, demo_account: str) -> None:
    result = CliRunner().invoke(main, ["backfill", demo_account, "--since", "2999-01-01"])
    assert result.exit_code == 2
    assert "--since: the date is in the future" in result.output


def test_an_interrupted_backfill_resumes_where_it_stopped(
    sandbox: SandboxHandle, demo_account: str, clean_db: Engine
) -> None:
    create_bulk(
        sandbox.state,
        300,
        seller_id=DEMO_SELLER.seller_id,
        marketplace_id=None,
        fulfilled_by=None,
        status=None,
        items_per_order=None,
        spread_seconds=3600,
        seed=3,
    )
    sandbox.state.advance_clock(180)
    op = "orders2026.searchOrders"
    sandbox.state.add_fault(Fault(operation=op, kind="latency", count=4, latency_ms=150))

    def pages_done() -> int:
        with clean_db.connect() as conn:
            return int(conn.execute(select(func.max(SyncCursor.pages_done))).scalar() or 0)

    def break_amazon() -> None:  # Amazon fails for good once three pages are committed
        while pages_done() < 3:
            threading.Event().wait(0.02)
        sandbox.state.add_fault(Fault(operation=op, kind="500", count=1000))

    breaker = threading.Thread(target=break_amazon, daemon=True)
    breaker.start()
    first = CliRunner().invoke(main, ["backfill", demo_account, "--since", "2020-01-01"])
    breaker.join(timeout=5)
    assert first.exit_code == 2, first.output
    assert "run the same command again to resume" in first.output
    with clean_db.connect() as conn:
        partial = conn.execute(select(func.count()).select_from(Order)).scalar_one()
    assert 0 < partial < 300

    sandbox.state.clear_faults()
    calls_before = len(sandbox.state.call_log(op, limit=10_000))
    second = CliRunner().invoke(main, ["backfill", demo_account, "--since", "2020-01-01"])
    assert second.exit_code == 0, second.output
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Order)).scalar_one() == 300
    resumed = len(sandbox.state.call_log(op, limit=10_000)) - calls_before
    assert resumed < 12, "it continued from its last page rather than from the start"


def test_a_sync_asked_while_a_worker_syncs_waits_for_it_then_runs(
    sandbox: SandboxHandle, demo_account: str, clean_db: Engine
) -> None:
    create_bulk(
        sandbox.state, 5, seller_id=DEMO_SELLER.seller_id, marketplace_id=None,
        fulfilled_by=None, status=None, items_per_order=None, spread_seconds=60, seed=4,
    )  # fmt: skip
    sandbox.state.advance_clock(180)
    account_id = get_account(sessionmaker(clean_db), demo_account).id
    held, release = threading.Event(), threading.Event()

    def a_worker_syncing() -> None:
        with advisory_lock(clean_db, f"sync:{account_id}:orders") as locked:
            assert locked
            held.set()
            release.wait(10)

    holder = threading.Thread(target=a_worker_syncing, daemon=True)
    holder.start()
    held.wait(10)
    threading.Timer(1.5, release.set).start()
    result = CliRunner().invoke(main, ["sync", demo_account])
    holder.join(timeout=10)

    assert result.exit_code == 0, result.output
    assert "another sync of this account is running; waiting for it to end" in result.output
    assert "5 new" in result.output
