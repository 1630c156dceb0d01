"""The fulfilment store on PostgreSQL: intake under the order's lock, leases and fencing,
outcomes with their events in one transaction, the sweeper's pick, ship-by alerts once, and the
API's idempotency keys."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.fulfilments import (
    Accepted,
    FulfilmentState,
    ReadBack,
    Rejected,
    accept_fulfilment,
    check_deadlines,
    retry_fulfilment,
)
from domain.orders import AmazonOrder, FulfilledBy, OrderStatus
from infra.clock import SystemClock
from infra.db.fulfilments import SqlFulfilmentStore
from infra.db.idempotency import KeyStatus
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.db.tables import FulfilmentLine, OrderItem, OutboxEvent, ShipByAlert
from infra.db.tables import Order as OrderRow
from infra.platform import payloads
from tests.integration.infra.db.seed import MARKETPLACE, amazon_order, seed_account, seed_order
from workers.doors.fulfilments import read_request, take_in

pytestmark = pytest.mark.integration

LEASE = timedelta(minutes=6)


def body(order: AmazonOrder, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": order.amazon_order_id,
        "platform_fulfilment_id": "F-1",
        "shipped_at": (order.purchased_at + timedelta(hours=20)).isoformat(),
        "carrier_code": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"sku": "MUG-RED", "quantity": 1}],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def store_events(engine: Engine, topic: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(OutboxEvent.payload).where(OutboxEvent.topic == topic)
        return list(conn.execute(query.order_by(OutboxEvent.id)).scalars())


def topics(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(OutboxEvent.topic).order_by(OutboxEvent.id)).scalars())


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def store(clean_db: Engine, session_factory: sessionmaker[Session]) -> SqlFulfilmentStore:
    return SqlFulfilmentStore(clean_db, session_factory, payloads.encode)


@pytest.fixture
def order(clean_db: Engine, session_factory: sessionmaker[Session]) -> AmazonOrder:
    account_id = seed_account(session_factory)
    order = amazon_order(1)
    seed_order(clean_db, session_factory, account_id, order)
    return order


def accept(store: SqlFulfilmentStore, data: dict[str, Any]) -> Accepted | Rejected:
    return accept_fulfilment(read_request(data), store, SystemClock())


def accepted_id(store: SqlFulfilmentStore, data: dict[str, Any]) -> int:
    result = accept(store, data)
    assert isinstance(result, Accepted), result
    return result.fulfilment.id


# --- intake ---------------------------------------------------------------------------------


def test_intake_stores_the_fulfilment_with_its_lines_once(
    store: SqlFulfilmentStore, order: AmazonOrder, clean_db: Engine
) -> None:
    first = accept(store, body(order))
    second = accept(store, body(order))
    assert isinstance(first, Accepted) and first.created
    assert isinstance(second, Accepted) and not second.created
    assert second.fulfilment == first.fulfilment
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FulfilmentRow)).scalar() == 1
        line = conn.execute(select(FulfilmentLine)).one()
        row = conn.execute(select(FulfilmentRow)).one()
    assert (line.order_item_id, line.sku, line.quantity) == ("0000001-A", "MUG-RED", 1)
    assert row.state == "accepted" and row.next_attempt_at > row.accepted_at
    assert first.fulfilment.ship_by_latest == order.ship_by_latest
    assert first.fulfilment.marketplace_id == MARKETPLACE


def test_a_fulfilment_is_unique_per_account_and_platform_fulfilment_id(
    store: SqlFulfilmentStore, order: AmazonOrder, clean_db: Engine
) -> None:
    accepted_id(store, body(order))
    with pytest.raises(IntegrityError), clean_db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO fulfilments (account_id, order_id, amazon_order_id,"
                " platform_fulfilment_id, fingerprint, shipped_at, carrier_code, tracking_number)"
                " SELECT account_id, order_id, amazon_order_id, platform_fulfilment_id, 'x',"
                " shipped_at, carrier_code, tracking_number FROM fulfilments"
            )
        )


def test_concurrent_requests_cannot_both_take_what_remains(
    store: SqlFulfilmentStore, order: AmazonOrder
) -> None:
    results: list[Accepted | Rejected] = []
    start = threading.Barrier(6)

    def request(n: int) -> None:
        start.wait()
        data = body(order, platform_fulfilment_id=f"F-{n}", tracking_number=f"T-{n}", lines=[])
        results.append(accept(store, data))

    threads = [threading.Thread(target=request, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(r, Accepted) for r in results) == 1
    refused = [r for r in results if isinstance(r, Rejected)]
    assert all(r.errors[0].reason == "nothing remains unshipped on this order" for r in refused)


def test_a_refused_queue_request_is_recorded_once_with_one_event(
    store: SqlFulfilmentStore, order: AmazonOrder, clean_db: Engine
) -> None:
    message = {"version": 1, "type": "fulfilment.requested", **body(order, carrier_code="Nope")}
    for _ in range(3):
        assert isinstance(take_in(message, store, SystemClock()), Rejected)
    (rejection,) = store.rejections()
    assert rejection["times_seen"] == 3
    assert rejection["errors"][0]["field"] == "carrier_code"
    assert topics(clean_db) == ["orders/created", "fulfilments/failed"]


# --- the lease and the outcomes ---------------------------------------------------------------


def test_a_lease_fences_out_other_workers_until_it_runs_out(
    store: SqlFulfilmentStore, order: AmazonOrder, clean_db: Engine
) -> None:
    fulfilment_id = accepted_id(store, body(order))
    claimed = store.claim(fulfilment_id, "w1", LEASE)
    assert claimed is not None and claimed.state is FulfilmentState.SENDING
    assert claimed.attempts == 1
    assert store.claim(fulfilment_id, "w2", LEASE) is None
    assert store.claim(fulfilment_id, "w1", LEASE) is None  # not even its own token again
    with clean_db.begin() as conn:
        conn.execute(update(FulfilmentRow).values(lease_until=func.now() - timedelta(seconds=1)))
    taken_over = store.claim(fulfilment_id, "w2", LEASE)
    assert taken_over is not None
    assert not store.record_confirmed(taken_over, "w1", ReadBack())
    assert not store.release(fulfilment_id, "w1", LEASE, "late")
    assert store.record_confirmed(taken_over, "w2", ReadBack(error="not read"))
    assert store.claim(fulfilment_id, "w3", LEASE) is None
    confirmed = store.get(fulfilment_id)
    assert confirmed is not None and confirmed.state is FulfilmentState.CONFIRMED
    assert confirmed.attempts == 2
    assert topics(clean_db) == ["orders/created", "fulfilments/confirmed"]


def test_a_confirmation_stores_amazons_view_and_its_event_in_one_transaction(
    store: SqlFulfilmentStore, order: AmazonOrder, clean_db: Engine
) -> None:
    fulfilment_id = accepted_id(store, body(order, lines=[]))
    claimed = store.claim(fulfilment_id, "w1", LEASE)
    assert claimed is not None
    shipped = replace(
        order,
        status=OrderStatus.SHIPPED,
        last_updated_at=datetime.now(UTC).replace(microsecond=0),
        lines=tuple(replace(line, quantity_shipped=line.quantity_ordered) for line in order.lines),
    )
    read_back = ReadBack(order=shipped, package_status="PENDING", package_listed=True)
    assert store.record_confirmed(claimed, "w1", read_back)
    with clean_db.connect() as conn:
        row = conn.execute(select(FulfilmentRow)).one()
        stored = conn.execute(select(OrderRow.status)).scalar_one()
        shipped_counts = (
            conn.execute(select(OrderItem.quantity_shipped).order_by(OrderItem.order_item_id))
            .scalars()
            .all()
        )
        event = conn.execute(
            select(OutboxEvent).where(OutboxEvent.topic == "fulfilments/confirmed")
        ).one()
    assert (row.state, row.amazon_order_status, row.amazon_package_status) == (
        "confirmed",
        "SHIPPED",
        "PENDING",
    )
    assert row.lease_owner is None and row.confirmed_at is not None
    assert stored == "SHIPPED" and shipped_counts == [3, 1]
    payload = event.payload
    assert event.aggregate_key == f"order:{row.account_id}:{order.amazon_order_id}"
    assert payload["buyer_notified_by"] == "amazon"
    assert payload["package_reference_id"] == str(fulfilment_id)
    assert payload["amazon"]["order_status"] == "SHIPPED"
    assert topics(clean_db) == ["orders/created", "orders/updated", "fulfilments/confirmed"]
    # Amazon's count now includes ours, and ours is not counted twice.
    assert isinstance(accept(store, body(order, platform_fulfilment_id="F-2", lines=[])), Rejected)


def test_a_read_back_put_off_is_pending_until_read_and_claimed_by_one_reader(
    store: SqlFulfilmentStore,
    order: AmazonOrder,
    clean_db: Engine,
    session_factory: sessionmaker[Session],
) -> None:
    fulfilment_id = accepted_id(store, body(order, lines=[]))
    claimed = store.claim(fulfilment_id, "w1", LEASE)
    assert claimed is not None
    put_off = ReadBack(error="RateLimitTimeout: no token", deferred=True)
    assert store.record_confirmed(claimed, "w1", put_off)
    event = store_events(clean_db, "fulfilments/confirmed")[0]
    assert event["amazon"]["read_deferred"] and event["amazon"]["order_status"] is None
    assert str(store.amazon_views([fulfilment_id])[fulfilment_id]).startswith("read-back pending")
    other_account = seed_account(session_factory, "globex")
    assert store.claim_read_back(LEASE, frozenset({claimed.account_id})) is None
    pending = store.claim_read_back(LEASE, frozenset({other_account}))
    assert pending is not None and pending.fulfilment_id == fulfilment_id
    assert pending.amazon_order_id == order.amazon_order_id and pending.confirmed_at is not None
    assert store.claim_read_back(LEASE, frozenset()) is None  # leased to the first reader
    store.defer_read_back(fulfilment_id, timedelta(0), "Throttled: QuotaExceeded", give_up=False)
    again = store.claim_read_back(LEASE, frozenset())
    assert again is not None and again.fulfilment_id == fulfilment_id
    shipped = replace(
        order,
        status=OrderStatus.SHIPPED,
        last_updated_at=datetime.now(UTC).replace(microsecond=0),
        lines=tuple(replace(line, quantity_shipped=line.quantity_ordered) for line in order.lines),
    )
    store.record_read_back(
        again, ReadBack(order=shipped, package_status="PENDING", package_listed=True)
    )
    with clean_db.connect() as conn:
        row = conn.execute(select(FulfilmentRow)).one()
        stored = conn.execute(select(OrderRow.status)).scalar_one()
    assert (row.amazon_order_status, row.amazon_package_status) == ("SHIPPED", "PENDING")
    assert row.read_back_due_at is None and row.amazon_checked_at is not None
    assert row.last_error is None and stored == "SHIPPED"
    assert topics(clean_db) == ["orders/created", "fulfilments/confirmed", "orders/updated"]
    assert store.claim_read_back(LEASE, frozenset()) is None
    assert store.amazon_views([fulfilment_id]) == {fulfilment_id: "order SHIPPED, package PENDING"}


def test_a_read_back_given_up_keeps_its_reason_and_is_pending_no_more(
    store: SqlFulfilmentStore, order: AmazonOrder, clean_db: Engine
) -> None:
    fulfilment_id = accepted_id(store, body(order))
    claimed = store.claim(fulfilment_id, "w1", LEASE)
    assert claimed is not None
    assert store.record_confirmed(claimed, "w1", ReadBack(error="no token", deferred=True))
    assert store.claim_read_back(LEASE, frozenset()) is not None
    store.defer_read_back(fulfilment_id, timedelta(0), "Throttled: QuotaExceeded", give_up=True)
    assert store.claim_read_back(LEASE, frozenset()) is None
    with clean_db.connect() as conn:
        row = conn.execute(select(FulfilmentRow)).one()
    assert row.read_back_due_at is None and row.state == "confirmed"
    assert row.last_error == "Throttled: QuotaExceeded"


def test_a_failure_is_recorded_with_amazons_reason_and_reopened_by_an_operator(
    store: SqlFulfilmentStore, order: AmazonOrder, clean_db: Engine
) -> None:
    fulfilment_id = accepted_id(store, body(order))
    store.claim(fulfilment_id, "w1", LEASE)
    assert store.record_failed(fulfilment_id, "w1", "InvalidInput", "Invalid trackingNumber")
    (listed,) = store.list(state=FulfilmentState.FAILED)
    assert (listed.id, listed.failure_code) == (fulfilment_id, "InvalidInput")
    assert listed.failure_reason == "Invalid trackingNumber"
    assert store.list(state=FulfilmentState.ACCEPTED) == []
    with clean_db.connect() as conn:
        payload = conn.execute(
            select(OutboxEvent.payload).where(OutboxEvent.topic == "fulfilments/failed")
        ).scalar_one()
    assert payload["error"] == {
        "source": "amazon",
        "code": "InvalidInput",
        "message": "Invalid trackingNumber",
    }
    assert payload["buyer_notified_by"] == "amazon"
    retried = retry_fulfilment(fulfilment_id, store, SystemClock())
    assert isinstance(retried, Accepted) and retried.created
    assert retried.fulfilment.state is FulfilmentState.ACCEPTED
    assert retried.fulfilment.failure_code is None and retried.fulfilment.attempts == 0
    assert isinstance(retry_fulfilment(fulfilment_id, store, SystemClock()), Rejected)


def test_the_sweeper_picks_what_nobody_sends_most_urgent_first_and_only_once(
    store: SqlFulfilmentStore,
    clean_db: Engine,
    session_factory: sessionmaker[Session],
) -> None:
    account_id = seed_account(session_factory)
    now = datetime.now(UTC).replace(microsecond=0)
    later = amazon_order(1, ship_by_latest=now + timedelta(days=3))
    sooner = amazon_order(2, ship_by_latest=now + timedelta(hours=3))
    for o in (later, sooner):
        seed_order(clean_db, session_factory, account_id, o)
    first = accepted_id(store, body(later))
    second = accepted_id(store, body(sooner, platform_fulfilment_id="F-2"))
    assert store.due_for_sending(10, timedelta(minutes=10)) == []  # their messages are queued
    with clean_db.begin() as conn:
        conn.execute(update(FulfilmentRow).values(next_attempt_at=func.now()))
    due = store.due_for_sending(10, timedelta(minutes=10))
    assert [d.fulfilment_id for d in due] == [second, first]
    assert due[0].ship_by_latest == sooner.ship_by_latest
    assert store.due_for_sending(10, timedelta(minutes=10)) == []
    # A dead worker's lease: picked again as soon as it runs out (the claim cleared the row's
    # next_attempt_at, so the sweep's own push of ten minutes does not hold it back).
    store.claim(first, "dead", LEASE)
    assert store.due_for_sending(10, timedelta(minutes=10)) == []  # its lease is live
    with clean_db.begin() as conn:
        conn.execute(update(FulfilmentRow).values(lease_until=func.now() - timedelta(seconds=1)))
    assert [d.fulfilment_id for d in store.due_for_sending(10, timedelta(minutes=10))] == [first]
    assert store.due_for_sending(10, timedelta(minutes=10)) == []  # queued once, not each sweep


# --- ship-by deadlines ----------------------------------------------------------------------


def test_ship_by_alerts_are_sent_once_per_order_kind_and_date(
    store: SqlFulfilmentStore, clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    account_id = seed_account(session_factory)
    now = datetime.now(UTC).replace(microsecond=0)
    soon = amazon_order(1, ship_by_latest=now + timedelta(hours=5))
    missed = amazon_order(2, ship_by_latest=now - timedelta(hours=1))
    covered = amazon_order(3, ship_by_latest=now + timedelta(hours=2))
    fba = amazon_order(4, ship_by_latest=now, fulfilled_by=FulfilledBy.AMAZON)
    for o in (soon, missed, covered, fba):
        seed_order(clean_db, session_factory, account_id, o)
    accepted_id(store, body(covered, lines=[]))
    warning = timedelta(hours=24)
    first = check_deadlines(store, SystemClock(), warning)
    second = check_deadlines(store, SystemClock(), warning)
    assert (first.checked, first.approaching, first.missed) == (2, 1, 1)
    assert (second.approaching, second.missed) == (0, 0)
    alerts = [t for t in topics(clean_db) if t.startswith("orders/ship_by")]
    assert sorted(alerts) == ["orders/ship_by_approaching", "orders/ship_by_missed"]
    # Amazon extends the ship-by date: a new date warns again.
    seed_order(
        clean_db,
        session_factory,
        account_id,
        replace(soon, ship_by_latest=now + timedelta(hours=6), last_updated_at=now),
    )
    assert check_deadlines(store, SystemClock(), warning).approaching == 1
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ShipByAlert)).scalar() == 3


# --- idempotency keys -----------------------------------------------------------------------


def test_an_idempotency_key_replays_its_first_answer_and_refuses_another_body(
    store: SqlFulfilmentStore, clean_db: Engine
) -> None:
    with store.keyed_intake("fulfilments", "k1", "hash-a") as keyed:
        assert keyed.claim.status is KeyStatus.NEW
        keyed.answer(201, {"fulfilment_id": 1})
    with store.keyed_intake("fulfilments", "k1", "hash-b") as keyed:
        assert keyed.claim.status is KeyStatus.MISMATCH
    with store.keyed_intake("fulfilments", "k1", "hash-a") as keyed:
        claim = keyed.claim
        assert (claim.status, claim.response_code, claim.response_body) == (
            KeyStatus.REPLAY,
            201,
            {"fulfilment_id": 1},
        )
        with pytest.raises(RuntimeError, match="takes no answer"):
            keyed.answer(200, {})
    # The same key in another scope is another key.
    with store.keyed_intake("refunds", "k1", "hash-b") as keyed:
        assert keyed.claim.status is KeyStatus.NEW


def test_a_request_without_an_answer_leaves_neither_its_key_nor_what_it_stored(
    store: SqlFulfilmentStore, order: AmazonOrder, clean_db: Engine
) -> None:
    request = body(order)
    with store.keyed_intake("fulfilments", "k2", "hash-a") as keyed:
        assert keyed.claim.status is KeyStatus.NEW
        assert isinstance(accept_fulfilment(read_request(request), keyed, SystemClock()), Accepted)
        # refused after all (say the answer could not be built): no answer, no commit
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FulfilmentRow)).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar() == 0
    # The platform fixes the body and sends it again under the same key.
    with store.keyed_intake("fulfilments", "k2", "hash-b") as keyed:
        assert keyed.claim.status is KeyStatus.NEW
    # A key kept without an answer (an earlier release claimed keys in a transaction of their
    # own) is taken over by the next request with it.
    with clean_db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO idempotency_keys (scope, key, request_hash, locked_at)"
                " VALUES ('fulfilments', 'k3', 'hash-a', now())"
            )
        )
    with store.keyed_intake("fulfilments", "k3", "hash-b") as keyed:
        assert keyed.claim.status is KeyStatus.NEW
        keyed.answer(201, {"fulfilment_id": 3})
    with store.keyed_intake("fulfilments", "k3", "hash-b") as keyed:
        assert keyed.claim.status is KeyStatus.REPLAY


def test_a_second_request_with_a_running_key_waits_and_replays_the_first_answer(
    store: SqlFulfilmentStore,
) -> None:
    answered = threading.Event()
    order_of_events: list[str] = []

    def first() -> None:
        with store.keyed_intake("fulfilments", "k4", "hash-a") as keyed:
            keyed.answer(201, {"fulfilment_id": 4})
            answered.set()
            time.sleep(0.5)  # still running: the transaction is open
            order_of_events.append("first committed")

    runner = threading.Thread(target=first)
    runner.start()
    assert answered.wait(10)
    with store.keyed_intake("fulfilments", "k4", "hash-a") as keyed:
        order_of_events.append("second claimed")
        claim = keyed.claim
    runner.join()
    assert order_of_events == ["first committed", "second claimed"]
    assert (claim.status, claim.response_code) == (KeyStatus.REPLAY, 201)
