"""``backfill ACCOUNT --since DATE --via reports``: history through order reports, stored as the
sync stores it (field by field, on what both carry), once however often it runs, resumed after
an interruption, never over a fuller copy, and clear errors for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER, Fault
from infra.db.tables import Order, OrderItem, OutboxEvent
from workers.cli import main
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration

ORDER_FIELDS = (
    "marketplace_id", "status", "fulfilled_by", "read_only", "currency", "order_total",
    "purchased_at", "amazon_updated_at", "service_level", "is_business",
)  # fmt: skip
ITEM_FIELDS = (
    "sku", "asin", "title", "quantity_ordered", "currency", "unit_price", "charged_principal",
    "charged_shipping", "charged_tax", "charged_shipping_tax", "charged_gift_wrap",
    "charged_gift_wrap_tax",
)  # fmt: skip
COUNT = 40


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=500) as handle:
        monkeypatch.setenv("AMAZON_REGION", "SANDBOX")
        monkeypatch.setenv("SPAPI_ENDPOINT", handle.base_url)
        monkeypatch.setenv("SANDBOX_RATE_FACTOR", "500")
        create_bulk(
            handle.state, COUNT, seller_id=DEMO_SELLER.seller_id, marketplace_id=None,
            fulfilled_by=None, status=None, items_per_order=None, spread_seconds=3600, seed=7,
        )  # fmt: skip
        handle.state.advance_clock(180)
        yield handle


@pytest.fixture
def demo_account(session_factory: sessionmaker[Session]) -> str:
    ensure_demo_account(session_factory)
    return "demo"


def _since(days: int = 45) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%d")


def _backfill(account: str, *more: str) -> Any:
    return CliRunner().invoke(main, ["backfill", account, "--since", _since(), *more])


def _stored(engine: Engine) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Every stored order by its Amazon id: its row and its items' rows (by SKU and price)."""
    with engine.connect() as conn:
        orders = {r.id: r._asdict() for r in conn.execute(select(Order.__table__))}
        items: dict[int, list[dict[str, Any]]] = {}
        for row in conn.execute(select(OrderItem.__table__)):
            items.setdefault(row.order_id, []).append(row._asdict())
    return {
        o["amazon_order_id"]: (
            o,
            sorted(items.get(i, []), key=lambda r: (r["sku"], str(r["unit_price"]))),
        )
        for i, o in orders.items()
    }


def _events(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [t for (t,) in conn.execute(select(OutboxEvent.topic).order_by(OutboxEvent.id))]


def test_a_backfill_via_reports_stores_what_a_sync_of_the_same_orders_stores(
    sandbox: SandboxHandle, demo_account: str, clean_db: Engine
) -> None:
    result = _backfill(demo_account, "--via", "reports")
    assert result.exit_code == 0, result.output
    assert f"backfill done: {COUNT} orders, {COUNT} new" in result.output
    assert "ATVPDKIKX0DER up to" in result.output  # a progress line per window and batch
    from_reports = _stored(clean_db)
    assert len(from_reports) == COUNT
    assert {o["detail"] for o, _ in from_reports.values()} == {"report"}
    assert (
        _events(clean_db).count("orders/created") + _events(clean_db).count("orders/cancelled")
        == COUNT
    )  # as the sync would: one event per new order

    synced = CliRunner().invoke(main, ["sync", demo_account])  # full copies replace them
    assert synced.exit_code == 0, synced.output
    from_sync = _stored(clean_db)
    assert {o["detail"] for o, _ in from_sync.values()} == {"full"}
    for order_id, (row, items) in from_reports.items():
        full_row, full_items = from_sync[order_id]
        for name in ORDER_FIELDS:
            assert row[name] == full_row[name], (order_id, name)
        assert len(items) == len(full_items), order_id  # the made-up lines are gone
        assert all(not i["order_item_id"].startswith("R:") for i in full_items)
        for item, full_item in zip(items, full_items, strict=True):
            for name in ITEM_FIELDS:
                assert item[name] == full_item[name], (order_id, name)
            if row["status"] != "PARTIALLY_SHIPPED":  # the file knows all shipped or none
                assert item["quantity_shipped"] == full_item["quantity_shipped"], order_id


def test_a_backfill_via_reports_run_twice_stores_each_order_once(
    sandbox: SandboxHandle, demo_account: str, clean_db: Engine
) -> None:
    first = _backfill(demo_account, "--via", "reports")
    assert first.exit_code == 0, first.output
    events = _events(clean_db)
    until = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    again = _backfill(demo_account, "--via", "reports", "--until", until)
    assert again.exit_code == 0, again.output
    assert "0 new" in again.output
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Order)).scalar_one() == COUNT
        pairs = conn.execute(select(OrderItem.order_id, OrderItem.order_item_id)).all()
    assert len(pairs) == len(set(pairs))
    assert _events(clean_db) == events  # nothing changed, nothing announced


def test_a_report_copy_never_replaces_an_order_the_sync_stored(
    sandbox: SandboxHandle, demo_account: str, clean_db: Engine
) -> None:
    synced = CliRunner().invoke(main, ["sync", demo_account])
    assert synced.exit_code == 0, synced.output
    before, events = _stored(clean_db), _events(clean_db)
    result = _backfill(demo_account, "--via", "reports")
    assert result.exit_code == 0, result.output
    assert _stored(clean_db) == before
    assert _events(clean_db) == events


def test_an_interrupted_backfill_via_reports_resumes_with_the_report_it_asked_for(
    sandbox: SandboxHandle, demo_account: str, clean_db: Engine
) -> None:
    document = "reports.getReportDocument"
    sandbox.state.add_fault(Fault(operation=document, kind="500", count=1000))
    until = ("--until", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))  # one for both runs
    first = _backfill(demo_account, "--via", "reports", *until)
    assert first.exit_code == 2, first.output
    assert "run the same command again to resume" in first.output
    calls = sandbox.state.call_log("reports.createReport", limit=1000)
    asked = len([c for c in calls if c.status == 202])
    assert 1 <= asked < 6  # it stopped at the first report with orders in it

    sandbox.state.clear_faults()
    second = _backfill(demo_account, "--via", "reports", *until)
    assert second.exit_code == 0, second.output
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Order)).scalar_one() == COUNT
    # Two windows (45 days) for each of three marketplaces: none was asked for twice (the one
    # the first run stopped in was taken up again by its id).
    # (A first call may be refused 403 with a token another sandbox issued: it makes nothing.)
    made = [c for c in sandbox.state.call_log("reports.createReport", limit=1000)]
    assert len([c for c in made if c.status == 202]) == 6, made


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nobody", "--since", "2026-01-01", "--via", "reports"], "error: account: no account"),
        (["demo", "--since", "yesterday", "--via", "reports"], "--since: 'yesterday'"),
        (["demo", "--since", "2999-01-01", "--via", "reports"], "--since: the date is in the"),
        (["demo", "--since", "2026-01-02", "--until", "2026-01-01", "--via", "reports"],
         "--until: must be after --since"),
        (["demo", "--since", "2026-01-01", "--until", "2999-01-01", "--via", "reports"],
         "--until: the date is in the future"),
        (["demo", "--since", "2026-01-01", "--until", "2026-01-02"],
         "--until: only with --via reports"),
        (["demo", "--since", "2026-01-01", "--via", "fax"], "Invalid value for '--via'"),
    ],
)  # fmt: skip
def test_bad_input_to_a_backfill_is_a_clear_error(
    clean_db: Engine, demo_account: str, arguments: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["backfill", *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.output
