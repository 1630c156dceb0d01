"""Fetching settlements end to end, against the sandbox over HTTP and the real store: Amazon's
period closes, the report is listed, its document streamed and read, every line stored once,
the statement reconciled to the cent; fetched again, nothing is done twice (not even the
download); a fetch that dies half way through a report resumes and stores each line once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from domain.payouts import Match, SetAsideLine, SettlementLine
from domain.payouts.fetch import fetch_settlements
from domain.payouts.reconcile import reconcile
from infra.amazon.gateways.settlements import SpApiSettlements
from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.payouts import SqlPayoutStore
from infra.db.tables import OutboxEvent, SettlementLineRow
from infra.platform import payloads
from infra.settings import Settings
from tests.integration.workers.scenarios import on_sandbox
from workers import bootstrap
from workers.cli import main
from workers.demo import ensure_demo_account
from workers.web.app import create_app

pytestmark = pytest.mark.integration

ORDERS = 25


class Killed(Exception):
    """The worker died here (raised by the store's stand-in after some batches)."""


class DiesAfter:
    """The real store, whose ``save_lines`` commits ``batches`` batches and then dies: what a
    worker SIGKILLed half way through a report leaves behind."""

    def __init__(self, store: SqlPayoutStore, batches: int) -> None:
        self.store = store
        self.left = batches

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def save_lines(
        self, account_id: int, settlement_id: str, lines: Iterable[SettlementLine | SetAsideLine]
    ) -> int:
        if self.left == 0:
            raise Killed
        self.left -= 1
        return self.store.save_lines(account_id, settlement_id, lines)


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=0) as handle:
        yield handle


@pytest.fixture
def container(
    sandbox: SandboxHandle, settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[bootstrap.Container]:
    ensure_demo_account(session_factory)
    used = bootstrap.use(on_sandbox(settings, sandbox, 0), patient=True)
    try:
        yield used
    finally:
        bootstrap.reset_and_close()


def _shipped_period_closed(sandbox: SandboxHandle, container: bootstrap.Container) -> None:
    create_bulk(
        sandbox.state, ORDERS, seller_id=DEMO_SELLER.seller_id, marketplace_id="ATVPDKIKX0DER",
        fulfilled_by=None, status="SHIPPED", items_per_order=2, spread_seconds=3600, seed=8,
    )  # fmt: skip
    sandbox.state.advance_clock(180)
    assert bootstrap.sync_account("demo").created == ORDERS
    closed = httpx.post(
        f"{sandbox.base_url}/_sandbox/settlements/close",
        json={"seller_id": DEMO_SELLER.seller_id},
        timeout=30,
    )
    assert closed.status_code == 201, closed.text
    sandbox.state.advance_clock(180)


def _lines(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        lines = func.count(func.distinct(SettlementLineRow.line_no))
        stored, distinct = conn.execute(select(func.count(), lines)).one()
    return int(stored), int(distinct)


def test_a_closed_period_is_fetched_stored_once_and_reconciled_to_the_cent(
    sandbox: SandboxHandle, container: bootstrap.Container, clean_db: Engine
) -> None:
    _shipped_period_closed(sandbox, container)
    create_bulk(
        sandbox.state, 3, seller_id=DEMO_SELLER.seller_id, marketplace_id="ATVPDKIKX0DER",
        fulfilled_by=None, status="SHIPPED", items_per_order=1, spread_seconds=0, seed=9,
    )  # fmt: skip
    sandbox.state.advance_clock(180)
    account_id = bootstrap.active_account_ids()[0]
    reports = SpApiSettlements(container.amazon_client_for)
    store = SqlPayoutStore(container.engine, payloads.encode)
    since = sandbox.state.now() - timedelta(days=30)

    first = fetch_settlements(account_id, reports, store, since=since, batch_lines=40)
    downloads = len(sandbox.state.call_log("reports.getReportDocument", limit=100))
    again = fetch_settlements(account_id, reports, store, since=since, batch_lines=40)

    (statement,) = first.finished
    (held,) = store.open_balances(account_id)  # the period after the close: open, not paid out
    (open_group,) = [g for g in sandbox.state.event_groups(DEMO_SELLER.seller_id) if g.open]
    assert held.total.amount == open_group.total and first.open_balances == 1
    assert statement.reconciled, statement.problems()
    assert statement.unmatched == [] and statement.lines == first.lines > ORDERS
    assert statement.matched == {Match.ORDER: statement.lines}  # each line to an order of ours
    with clean_db.connect() as conn:
        orders = conn.execute(select(func.count(SettlementLineRow.order_id.distinct()))).scalar()
    assert orders == ORDERS
    assert (again.listed, again.skipped, again.lines, again.finished) == (1, 1, 0, [])
    assert len(sandbox.state.call_log("reports.getReportDocument", limit=100)) == downloads
    stored, distinct = _lines(clean_db)
    assert stored == distinct == first.lines
    with clean_db.connect() as conn:
        kinds = conn.execute(select(OutboxEvent.topic)).scalars().all()
    assert kinds.count("payouts/available") == 1


def test_a_fetch_killed_half_way_resumes_and_stores_each_line_once(
    sandbox: SandboxHandle, container: bootstrap.Container, clean_db: Engine
) -> None:
    _shipped_period_closed(sandbox, container)
    account_id = bootstrap.active_account_ids()[0]
    reports = SpApiSettlements(container.amazon_client_for)
    store = SqlPayoutStore(container.engine, payloads.encode)
    since = sandbox.state.now() - timedelta(days=30)

    with pytest.raises(Killed):
        fetch_settlements(account_id, reports, DiesAfter(store, 2), since=since, batch_lines=30)  # type: ignore[arg-type]
    half, _ = _lines(clean_db)
    resumed = fetch_settlements(account_id, reports, store, since=since, batch_lines=30)

    assert half == 60  # two batches were committed before it died
    (statement,) = resumed.finished
    assert statement.reconciled, statement.problems()
    stored, distinct = _lines(clean_db)
    assert stored == distinct == statement.lines == half + resumed.lines


def test_the_cli_lists_shows_and_exports_a_fetched_settlement(
    sandbox: SandboxHandle,
    container: bootstrap.Container,
    clean_db: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _shipped_period_closed(sandbox, container)
    account_id = bootstrap.active_account_ids()[0]
    store = SqlPayoutStore(container.engine, payloads.encode)
    since = sandbox.state.now() - timedelta(days=30)
    (statement,) = fetch_settlements(
        account_id, SpApiSettlements(container.amazon_client_for), store, since=since
    ).finished
    (listed,) = store.list_settlements(account_id=account_id)
    monkeypatch.setenv("DATABASE_URL", container.settings.database_url)
    monkeypatch.setenv("REDIS_URL", container.settings.redis_url)
    monkeypatch.setenv("BROKER_URL", container.settings.broker_url)
    exported = tmp_path / "statement.csv"

    shown_list = CliRunner().invoke(main, ["payouts", "list", "--account", "demo"])
    shown = CliRunner().invoke(main, ["payouts", "show", str(listed.id)])
    export = CliRunner().invoke(main, ["payouts", "export", str(listed.id), "--csv", str(exported)])
    missing = CliRunner().invoke(main, ["payouts", "show", "999999"])

    assert shown_list.exit_code == 0 and statement.summary.settlement_id in shown_list.output
    assert shown.exit_code == 0, shown.output
    assert "reconciled" in shown.output and "difference" in shown.output
    assert f"{statement.summary.total.amount}" in shown.output
    assert export.exit_code == 0, export.output
    with exported.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == statement.lines
    assert sum(Decimal(r["amount"]) for r in rows) == statement.summary.total.amount
    assert missing.exit_code == 2 and "no payout 999999" in missing.output


def test_the_api_gives_payouts_their_statement_in_json_and_csv_and_an_orders_money(
    sandbox: SandboxHandle, container: bootstrap.Container, clean_db: Engine
) -> None:
    _shipped_period_closed(sandbox, container)
    account_id = bootstrap.active_account_ids()[0]
    since = sandbox.state.now() - timedelta(days=30)
    store = SqlPayoutStore(container.engine, payloads.encode)
    (statement,) = fetch_settlements(
        account_id, SpApiSettlements(container.amazon_client_for), store, since=since
    ).finished
    # The worker keeps no sum per order; the domain's, from the stored lines, checks the API's.
    settlement_id = statement.summary.settlement_id
    with store.stored_lines(account_id, settlement_id) as lines:
        by_order = reconcile(statement.summary, lines, store.known(account_id, settlement_id))
    bootstrap.use(container.settings.model_copy(update={"api_tokens": "t"}), patient=True)
    auth = {"Authorization": "Bearer t"}
    with TestClient(create_app()) as client:
        listed = client.get("/v1/payouts?account=demo&state=reconciled", headers=auth)
        (payout,) = listed.json()["payouts"]
        one = client.get(f"/v1/payouts/{payout['payout_id']}", headers=auth)
        as_csv = client.get(f"/v1/payouts/{payout['payout_id']}?format=csv", headers=auth)
        by_accept = client.get(
            f"/v1/payouts/{payout['payout_id']}", headers={**auth, "Accept": "text/csv"}
        )
        order_id = next(iter(by_order.orders))
        money = client.get(f"/v1/orders/{order_id}/money", headers=auth)
        refused = client.get("/v1/payouts?state=lost&period_from=yesterday", headers=auth)

    assert listed.status_code == 200 and payout["reconciled"] is True
    assert payout["deposit"] == {"amount": str(statement.summary.total.amount), "currency": "USD"}
    assert payout["totals"]["difference"]["amount"] in ("0", "0.00")
    body = one.json()
    assert len(body["orders"]) == ORDERS and body["unmatched"] == []
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert len(rows) == statement.lines == len(list(csv.DictReader(io.StringIO(by_accept.text))))
    assert sum(Decimal(r["amount"]) for r in rows) == statement.summary.total.amount
    order = by_order.orders[order_id]
    (settled,) = money.json()["settlements"]
    assert settled["net"] == {"amount": str(order.net.amount), "currency": "USD"}
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"state", "period_from"}
