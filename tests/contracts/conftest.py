"""One harness per implementation of the fulfilment store's ports: the fake of ``tests.fakes``
and the SQL store on the session's PostgreSQL. Every scenario of ``tests/contracts`` runs
against both, so the fake cannot drift from the store it stands for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from domain.fulfilments import Fulfilment, FulfilmentState, ItemSnapshot
from domain.ingestion import Cursor
from domain.orders import AmazonOrder, FulfilledBy, OrderLine, OrderStatus
from domain.shared import Money
from infra.db.accounts import add_account
from infra.db.fulfilments import SqlFulfilmentStore
from infra.db.ingestion import SqlIngestionStore
from infra.platform import payloads
from infra.platform.payloads import topic
from tests.fakes import FakeFulfilmentStore, FixedClock, order_snapshot

# Both stores see the same now: the SQL store's leases and due dates use PostgreSQL's clock.
NOW = datetime.now(UTC).replace(microsecond=0)
ORDER_ID = "113-0000001-0000001"


class Harness(Protocol):
    """A fulfilment store and what a scenario needs around it."""

    clock: FixedClock

    @property
    def store(self) -> Any: ...

    def state(self, fulfilment_id: int) -> FulfilmentState: ...

    def fulfilment(self, fulfilment_id: int) -> Fulfilment: ...

    def expire_lease(self, fulfilment_id: int) -> None:
        """As if the lease holder died and its lease ran out."""
        ...

    def topics(self) -> list[str]:
        """The fulfilment events appended so far, in order."""
        ...


@dataclass
class FakeHarness:
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))

    def __post_init__(self) -> None:
        self.fake = FakeFulfilmentStore(self.clock)
        self.fake.add_order(
            order_snapshot(
                purchased_at=NOW - timedelta(days=2),
                ship_by_latest=NOW + timedelta(days=2),
                items=(
                    ItemSnapshot("ITEM-A", "MUG-RED", quantity_ordered=3, quantity_shipped=0),
                    ItemSnapshot("ITEM-B", "MUG-BLUE", quantity_ordered=1, quantity_shipped=0),
                ),
            )
        )

    @property
    def store(self) -> FakeFulfilmentStore:
        return self.fake

    def state(self, fulfilment_id: int) -> FulfilmentState:
        return self.fake.rows[fulfilment_id].state

    def fulfilment(self, fulfilment_id: int) -> Fulfilment:
        return self.fake.rows[fulfilment_id]

    def expire_lease(self, fulfilment_id: int) -> None:
        owner, _ = self.fake.leases[fulfilment_id]
        self.fake.leases[fulfilment_id] = (owner, self.clock.now() - timedelta(seconds=1))

    def topics(self) -> list[str]:
        return [topic(event) for event in self.fake.outbox]


class SqlHarness:
    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.clock = FixedClock(NOW)
        self.engine = engine
        self.sql = SqlFulfilmentStore(engine, sessions, payloads.encode)
        account_id = add_account(
            sessions,
            name="acme",
            selling_partner_id="SELLER-acme",
            region="SANDBOX",
            marketplace_ids=["ATVPDKIKX0DER"],
            refresh_token="Atzr|test",
        ).id
        order = AmazonOrder(
            amazon_order_id=ORDER_ID,
            marketplace_id="ATVPDKIKX0DER",
            status=OrderStatus.UNSHIPPED,
            fulfilled_by=FulfilledBy.MERCHANT,
            purchased_at=NOW - timedelta(days=2),
            last_updated_at=NOW - timedelta(days=1),
            lines=(
                OrderLine("ITEM-A", 3, 0, sku="MUG-RED", unit_price=Money.parse("9.99", "USD")),
                OrderLine("ITEM-B", 1, 0, sku="MUG-BLUE", unit_price=Money.parse("5.00", "USD")),
            ),
            ship_by_latest=NOW + timedelta(days=2),
        )
        SqlIngestionStore(engine, sessions, payloads.encode).save_page(
            account_id, "orders", [order], [], Cursor()
        )

    @property
    def store(self) -> SqlFulfilmentStore:
        return self.sql

    def state(self, fulfilment_id: int) -> FulfilmentState:
        return self.fulfilment(fulfilment_id).state

    def fulfilment(self, fulfilment_id: int) -> Fulfilment:
        found = self.sql.get(fulfilment_id)
        assert found is not None
        return found

    def expire_lease(self, fulfilment_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE fulfilments SET lease_until = now() - interval '1 s' WHERE id = :id"),
                {"id": fulfilment_id},
            )

    def topics(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT topic FROM outbox_events WHERE topic LIKE 'fulfilments/%' ORDER BY id")
            )
            return [str(row[0]) for row in rows]


@pytest.fixture(params=["fake", pytest.param("sql", marks=pytest.mark.integration)])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "fake":
        yield FakeHarness()
    else:
        yield SqlHarness(
            request.getfixturevalue("clean_db"), request.getfixturevalue("session_factory")
        )
