"""N demo sellers: the store's accounts and the sandbox's sellers match, whichever side is set
up first; an EU demo seller's Swedish order keeps its marketplace and its currency."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.demo_sellers import add_demo_sellers, demo_seller
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.db.accounts import list_accounts
from infra.db.tables import Order
from workers.cli import main
from workers.demo_sellers import ensure_demo_sellers

pytestmark = pytest.mark.integration

SE = "A2NODRKZP88ZB9"


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=500) as handle:
        monkeypatch.setenv("AMAZON_REGION", "SANDBOX")
        monkeypatch.setenv("SPAPI_ENDPOINT", handle.base_url)
        monkeypatch.setenv("SANDBOX_RATE_FACTOR", "500")
        yield handle


def test_the_store_and_a_running_sandbox_get_the_same_sellers_once(
    sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    first = ensure_demo_sellers(session_factory, 5, sandbox_url=sandbox.base_url)
    assert (first.accounts_added, first.sellers_added) == (4, 4)
    again = ensure_demo_sellers(session_factory, 5, sandbox_url=sandbox.base_url)
    assert (again.accounts_added, again.sellers_added) == (0, 0)
    names = [a.name for a in list_accounts(session_factory)]
    assert names == [f"demo-seller-{n}" for n in range(2, 6)]
    assert (
        sandbox.state.seller(demo_seller(5).seller_id).refresh_token == "Atzr|sandbox-demo-seller-5"
    )


def test_a_sandbox_started_with_sellers_knows_them_already(sandbox: SandboxHandle) -> None:
    assert add_demo_sellers(sandbox.state, 3) == 2
    assert add_demo_sellers(sandbox.state, 3) == 0  # kept from an earlier run: left alone


def test_a_swedish_order_of_an_eu_seller_keeps_its_marketplace_and_currency(
    sandbox: SandboxHandle, session_factory: sessionmaker[Session], clean_db: Engine
) -> None:
    add_demo_sellers(sandbox.state, 3)
    ensure_demo_sellers(session_factory, 3)
    seller = demo_seller(3)
    assert SE in seller.marketplace_ids
    httpx.post(
        f"{sandbox.base_url}/_sandbox/orders",
        json={"seller_id": seller.seller_id, "marketplace_id": SE},
    ).raise_for_status()
    sandbox.state.advance_clock(180)
    synced = CliRunner().invoke(main, ["sync", seller.name])
    assert synced.exit_code == 0, synced.output
    with clean_db.connect() as conn:
        marketplace, currency = conn.execute(select(Order.marketplace_id, Order.currency)).one()
    assert (marketplace, currency) == (SE, "SEK")
    listed = CliRunner().invoke(main, ["orders", "list"])
    assert seller.name in listed.output
