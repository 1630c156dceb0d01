"""``orders list --to-ship --json``: what the README's walkthrough picks an order from."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from workers.cli import main
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration


def test_to_ship_lists_only_what_a_fulfilment_can_be_sent_for(
    clean_db: Engine, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_demo_account(session_factory)
    with running_sandbox(rate_factor=500) as sandbox:
        monkeypatch.setenv("SPAPI_ENDPOINT", sandbox.base_url)
        monkeypatch.setenv("SANDBOX_RATE_FACTOR", "500")
        create_bulk(
            sandbox.state, 60, seller_id=DEMO_SELLER.seller_id, marketplace_id=None,
            fulfilled_by=None, status=None, items_per_order=None, spread_seconds=600, seed=5,
        )  # fmt: skip
        asked = sorted(
            o.order_id
            for o in sandbox.state.orders.values()
            if o.fulfilled_by == "MERCHANT" and o.status == "UNSHIPPED"
        )[:3]
        for order_id in asked:
            sandbox.state.request_cancellation(order_id, "Changed mind about purchase", None)
        sandbox.state.advance_clock(180)
        assert CliRunner().invoke(main, ["sync", "demo"]).exit_code == 0
        everything = CliRunner().invoke(main, ["orders", "list", "--limit", "100", "--json"])
        to_ship = CliRunner().invoke(
            main, ["orders", "list", "--to-ship", "--limit", "100", "--json"]
        )

    assert everything.exit_code == 0, everything.output
    assert to_ship.exit_code == 0, to_ship.output
    every, picked = json.loads(everything.output), json.loads(to_ship.output)
    assert len(every) == 60
    expected = {
        o["amazon_order_id"]
        for o in every
        if o["fulfilled_by"] == "MERCHANT"
        and o["status"] in ("UNSHIPPED", "PARTIALLY_SHIPPED")
        and "cancel-requested" not in o["flags"]
    }
    assert expected, "the bulk orders hold none to ship: the test shows nothing"
    assert {o["amazon_order_id"] for o in picked} == expected
    assert len(asked) == 3 and not set(asked) & expected  # a buyer asked: not to ship yet
    assert all(o["account"] == "demo" for o in picked)
