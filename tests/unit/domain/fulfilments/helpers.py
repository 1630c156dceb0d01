"""Builders shared by the fulfilment tests: a request body, intake and confirmation in one call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.fulfilments import (
    Accepted,
    Fulfilment,
    Outcome,
    Rejected,
    accept_fulfilment,
    confirm_fulfilment,
)
from tests.fakes import ORDER_ID, FakeAmazon, FakeFulfilmentStore, FixedClock
from workers.doors.fulfilments import read_request

LEASE = timedelta(minutes=6)
LONGEST_WAIT = timedelta(minutes=5)


def request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_fulfilment_id": "F-1",
        "shipped_at": "2026-11-01T11:30:00+01:00",
        "carrier_code": "ups",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"order_item_id": "ITEM-A", "quantity": 1}],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def accept(store: FakeFulfilmentStore, clock: FixedClock, **changes: Any) -> Accepted | Rejected:
    return accept_fulfilment(read_request(request(**changes)), store, clock)


def accepted(store: FakeFulfilmentStore, clock: FixedClock, **changes: Any) -> Fulfilment:
    result = accept(store, clock, **changes)
    assert isinstance(result, Accepted), result
    return result.fulfilment


def reasons(result: Accepted | Rejected) -> dict[str, str]:
    assert isinstance(result, Rejected), result
    return {e.field: e.reason for e in result.errors}


def confirm(
    store: FakeFulfilmentStore, amazon: FakeAmazon, fulfilment_id: int, owner: str = "task-1"
) -> Outcome:
    return confirm_fulfilment(
        fulfilment_id,
        store=store,
        amazon=amazon,
        owner=owner,
        lease=LEASE,
        longest_wait=LONGEST_WAIT,
    ).outcome
