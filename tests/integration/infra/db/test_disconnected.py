"""A disconnected account sends nothing to Amazon: its fulfilments are accepted and held (no
claim, no sweep, no read-back) and go once it is reconnected; disconnecting twice is once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.fulfilments import Accepted, accept_fulfilment
from domain.orders import AmazonOrder
from infra.clock import SystemClock
from infra.db.accounts import get_account, list_accounts, set_connected
from infra.db.fulfilments import SqlFulfilmentStore
from infra.platform import payloads
from tests.integration.infra.db.seed import amazon_order, seed_account, seed_order
from workers.doors.fulfilments import read_request

pytestmark = pytest.mark.integration

LEASE = timedelta(minutes=6)


@pytest.fixture
def store(clean_db: Engine, session_factory: sessionmaker[Session]) -> SqlFulfilmentStore:
    return SqlFulfilmentStore(clean_db, session_factory, payloads.encode)


@pytest.fixture
def order(clean_db: Engine, session_factory: sessionmaker[Session]) -> AmazonOrder:
    account_id = seed_account(session_factory)
    order = amazon_order(1)
    seed_order(clean_db, session_factory, account_id, order)
    return order


def accepted_id(store: SqlFulfilmentStore, order: AmazonOrder) -> int:
    request = {
        "account": "acme",
        "amazon_order_id": order.amazon_order_id,
        "platform_fulfilment_id": "F-1",
        "shipped_at": (order.purchased_at + timedelta(hours=20)).isoformat(),
        "carrier_code": "UPS",
        "tracking_number": "1Z999AA10123456784",
    }
    result = accept_fulfilment(read_request(request), store, SystemClock())
    assert isinstance(result, Accepted), result
    return result.fulfilment.id


def test_a_disconnected_accounts_fulfilment_is_accepted_but_never_claimed_or_swept(
    store: SqlFulfilmentStore, order: AmazonOrder, session_factory: sessionmaker[Session]
) -> None:
    set_connected(session_factory, "acme", False)
    fulfilment_id = accepted_id(store, order)
    assert store.claim(fulfilment_id, "w1", LEASE) is None
    assert store.due_for_sending(10, timedelta(minutes=1)) == []
    set_connected(session_factory, "acme", True)
    assert [due.fulfilment_id for due in store.due_for_sending(10, timedelta(minutes=1))] == [
        fulfilment_id
    ]
    claimed = store.claim(fulfilment_id, "w1", LEASE)
    assert claimed is not None and claimed.id == fulfilment_id


def test_disconnecting_twice_keeps_the_first_time_and_beat_skips_the_account(
    order: AmazonOrder, session_factory: sessionmaker[Session]
) -> None:
    first = set_connected(session_factory, "acme", False)
    again = set_connected(session_factory, "acme", False)
    assert first.connected is False and again.disconnected_at == first.disconnected_at
    assert list_accounts(session_factory, connected_only=True) == []
    assert get_account(session_factory, "acme").connected is False
    assert set_connected(session_factory, "acme", True).connected is True
    assert [a.name for a in list_accounts(session_factory, connected_only=True)] == ["acme"]
