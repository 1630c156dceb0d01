"""An order imported by ``backfill --via reports`` has made-up item ids (``R:<sku>``): a
fulfilment of it reads its items from Amazon first (``getOrder``, transparently) and names
Amazon's ids; when Amazon cannot answer, the fulfilment and the cancellation are refused,
naming the field and the reason, and nothing is stored or sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from domain.orders import STAND_IN_ITEMS
from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER, Fault
from infra.db.tables import Fulfilment, FulfilmentLine, Order, OrderItem, Refund
from workers.cli import main
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration
GET_ORDER = "orders2026.getOrder"


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=500) as handle:
        monkeypatch.setenv("AMAZON_REGION", "SANDBOX")
        monkeypatch.setenv("SPAPI_ENDPOINT", handle.base_url)
        monkeypatch.setenv("SANDBOX_RATE_FACTOR", "500")
        create_bulk(
            handle.state, 2, seller_id=DEMO_SELLER.seller_id, marketplace_id="ATVPDKIKX0DER",
            fulfilled_by="MERCHANT", status="UNSHIPPED", items_per_order=2, spread_seconds=600,
            seed=11,
        )  # fmt: skip
        handle.state.advance_clock(180)
        yield handle


@pytest.fixture
def imported(
    sandbox: SandboxHandle, session_factory: sessionmaker[Session], clean_db: Engine
) -> list[str]:
    """The two orders, stored from an order report only."""
    ensure_demo_account(session_factory)
    since = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")
    done = CliRunner().invoke(main, ["backfill", "demo", "--since", since, "--via", "reports"])
    assert done.exit_code == 0, done.output
    with clean_db.connect() as conn:
        rows = conn.execute(select(Order.amazon_order_id, Order.detail)).all()
    assert {r.detail for r in rows} == {"report"}
    return sorted(r.amazon_order_id for r in rows)


def _fulfil(order_id: str, *more: str) -> Any:
    return CliRunner().invoke(
        main,
        ["fulfil", "demo", order_id, "--id", f"f-{order_id}", "--carrier", "UPS",
         "--tracking", "1Z999", "--shipped-at", datetime.now(UTC).isoformat(), *more],
    )  # fmt: skip


def _item_ids(engine: Engine, order_id: str) -> list[str]:
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                select(OrderItem.order_item_id)
                .join(Order, Order.id == OrderItem.order_id)
                .where(Order.amazon_order_id == order_id)
            ).scalars()
        )


def test_a_fulfilment_of_a_reported_order_reads_its_items_from_amazon_first(
    sandbox: SandboxHandle, imported: list[str], clean_db: Engine
) -> None:
    order_id = imported[0]
    assert all(i.startswith("R:") for i in _item_ids(clean_db, order_id))

    result = _fulfil(order_id)

    assert result.exit_code == 0, result.output
    assert "accepted fulfilment" in result.output
    on_amazon = sorted(i.order_item_id for i in sandbox.state.order(order_id).items)
    assert _item_ids(clean_db, order_id) == on_amazon, "the report's stand-ins replaced"
    with clean_db.connect() as conn:
        sent = sorted(conn.execute(select(FulfilmentLine.order_item_id)).scalars())
        detail = conn.execute(
            select(Order.detail).where(Order.amazon_order_id == order_id)
        ).scalar_one()
    assert sent == on_amazon, "the package names Amazon's item ids"
    assert detail == "full"
    assert _item_ids(clean_db, imported[1])[0].startswith("R:"), "only the order asked about"


def test_when_amazon_cannot_say_the_items_the_fulfilment_and_cancellation_are_refused(
    sandbox: SandboxHandle, imported: list[str], clean_db: Engine
) -> None:
    order_id = imported[0]
    sandbox.state.add_fault(Fault(operation=GET_ORDER, kind="500", count=1000))

    fulfilled = _fulfil(order_id)
    cancelled = CliRunner().invoke(
        main,
        ["cancel", "--account", "demo", "--order", order_id,
         "--platform-cancellation-id", f"c-{order_id}", "--reason", "no_inventory"],
    )  # fmt: skip

    for result in (fulfilled, cancelled):
        assert result.exit_code == 2, result.output
        assert "amazon_order_id" in result.output, result.output
        assert STAND_IN_ITEMS in " ".join(result.output.split()), result.output
    with clean_db.connect() as conn:
        assert conn.execute(select(Fulfilment.id)).first() is None
        assert conn.execute(select(Refund.id)).first() is None
    assert all(i.startswith("R:") for i in _item_ids(clean_db, order_id))
