"""The record of SP-API calls per order: one row per attempt that names an order (a feed's
calls for every order of its messages), a write that fails is logged and never raised, and
records past the retention are pruned."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.observed import CallAttempt, notify
from infra.db.calls import CallRecorder, about_orders, prune_calls, record_engine
from infra.db.tables import SpApiCall
from tests.integration.infra.db.seed import seed_account

pytestmark = pytest.mark.integration


def _attempt(*order_ids: str, status: int | None = 200, **changes: object) -> CallAttempt:
    fields: dict[str, object] = {
        "operation": "ordersV0.confirmShipment",
        "method": "POST",
        "order_ids": order_ids,
        "attempt": 1,
        "started_at": datetime.now(UTC),
        "elapsed_ms": 12.4,
        "status": status,
        "request_id": "req-1",
    }
    fields.update(changes)
    return CallAttempt(**fields)  # type: ignore[arg-type]


def _rows(engine: Engine) -> list[SpApiCall]:
    with Session(engine) as session:
        return list(session.scalars(select(SpApiCall).order_by(SpApiCall.id)))


def test_attempts_naming_orders_are_recorded_and_others_not(
    clean_db: Engine, session_factory: sessionmaker[Session], database_url: str
) -> None:
    account_id = seed_account(session_factory)
    own = record_engine(database_url)  # the workers' autocommit pool
    record = CallRecorder(
        own, account_id, retention_days=14, task_of=lambda: ("fulfil.confirm", "t-1")
    )
    try:
        record(_attempt("111-0000001-0000001", status=400, error_code="InvalidInput", error="no"))
        record(_attempt(operation="orders2026.searchOrders"))  # names no order: not recorded
        with about_orders(["222-0000002-0000002", "333-0000003-0000003"]):
            record(_attempt(operation="feeds.createFeed", request_id=None, status=None))
    finally:
        own.dispose()
    rows = _rows(clean_db)
    assert [(r.operation, r.amazon_order_ids) for r in rows] == [
        ("ordersV0.confirmShipment", ["111-0000001-0000001"]),
        ("feeds.createFeed", ["222-0000002-0000002", "333-0000003-0000003"]),
    ]
    refused = rows[0]
    assert (refused.status, refused.error_code, refused.error) == (400, "InvalidInput", "no")
    assert (refused.request_id, refused.elapsed_ms) == ("req-1", 12)
    assert (refused.task_name, refused.task_id) == ("fulfil.confirm", "t-1")


def test_a_failed_write_is_logged_never_raised(
    clean_db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    record = CallRecorder(clean_db, 999_999, retention_days=14)  # no such account: FK refuses
    with caplog.at_level(logging.WARNING, logger="infra.db.calls"):
        notify([record], _attempt("111-0000001-0000001"))
    assert _rows(clean_db) == []
    assert any(r.getMessage() == "spapi call not recorded" for r in caplog.records)


def test_a_failing_observer_never_fails_the_call(caplog: pytest.LogCaptureFixture) -> None:
    def broken(attempt: CallAttempt) -> None:
        raise RuntimeError("boom")

    seen: list[CallAttempt] = []
    with caplog.at_level(logging.WARNING, logger="infra.amazon.observed"):
        notify([broken, seen.append], _attempt("111-0000001-0000001"))
    assert len(seen) == 1, "the next observer is still told"
    assert any(r.getMessage() == "spapi call observer failed" for r in caplog.records)


def test_records_past_the_retention_are_pruned(
    clean_db: Engine, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = seed_account(session_factory)
    old = datetime.now(UTC) - timedelta(days=15)
    row = {
        "account_id": account_id,
        "amazon_order_ids": ["111-0000001-0000001"],
        "operation": "orders2026.getOrder",
        "method": "GET",
        "attempt": 1,
        "elapsed_ms": 3,
    }
    with clean_db.begin() as conn:
        conn.execute(insert(SpApiCall), [{**row, "called_at": old}, {**row, "called_at": old}])
    # The first write of a process prunes (then every PRUNE_EVERY-th).
    monkeypatch.setattr(CallRecorder, "_writes", itertools.count())
    CallRecorder(clean_db, account_id, retention_days=14)(_attempt("111-0000001-0000001"))
    assert [r.called_at > old for r in _rows(clean_db)] == [True]

    with clean_db.begin() as conn:
        conn.execute(insert(SpApiCall), {**row, "called_at": old})
    assert prune_calls(clean_db, 14) == 1
    assert prune_calls(clean_db, 14) == 0
    assert len(_rows(clean_db)) == 1
