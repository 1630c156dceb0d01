"""Seeding the store for integration tests: an account, and orders saved as a sync saves them
(shared by the fulfilment store's tests and the API's)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.ingestion import Cursor
from domain.orders import AmazonOrder, FulfilledBy, OrderLine, OrderStatus
from domain.shared import Money
from infra.db.accounts import add_account
from infra.db.ingestion import SqlIngestionStore
from infra.platform import payloads

MARKETPLACE = "ATVPDKIKX0DER"


def seed_account(sessions: sessionmaker[Session], name: str = "acme") -> int:
    account = add_account(
        sessions,
        name=name,
        selling_partner_id=f"SELLER-{name}",
        region="SANDBOX",
        marketplace_ids=[MARKETPLACE],
        refresh_token="Atzr|test",
    )
    return account.id


def amazon_order(n: int, **changes: Any) -> AmazonOrder:
    """An unshipped merchant order bought two days ago: item A x3 (MUG-RED), item B x1."""
    now = datetime.now(UTC).replace(microsecond=0)
    order = AmazonOrder(
        amazon_order_id=f"113-{n:07d}-0000001",
        marketplace_id=MARKETPLACE,
        status=OrderStatus.UNSHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        purchased_at=now - timedelta(days=2),
        last_updated_at=now - timedelta(days=1),
        lines=(
            OrderLine(f"{n:07d}-A", 3, 0, sku="MUG-RED", unit_price=Money.parse("9.99", "USD")),
            OrderLine(f"{n:07d}-B", 1, 0, sku="MUG-BLUE", unit_price=Money.parse("5.00", "USD")),
        ),
        ship_by_latest=now + timedelta(days=2),
    )
    return replace(order, **changes)


def seed_order(
    engine: Engine, sessions: sessionmaker[Session], account_id: int, order: AmazonOrder
) -> None:
    SqlIngestionStore(engine, sessions, payloads.encode).save_page(
        account_id, "orders", [order], [], Cursor()
    )
