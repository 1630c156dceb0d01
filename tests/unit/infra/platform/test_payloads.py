"""The platform's contract in one place: every event has its topic, and every payload says that
Amazon, not the platform, notifies the buyer. (The exact bytes of each topic's payload are held
by ``tests/integration/infra/platform/test_payloads_golden.py``.)"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.fulfilments import (
    DeadlineAlert,
    DeadlineKind,
    FieldError,
    Fulfilment,
    FulfilmentState,
    OpenOrder,
    PackageLine,
    ReadBack,
    Rejected,
)
from domain.fulfilments.events import (
    FulfilmentConfirmed,
    FulfilmentFailed,
    FulfilmentRefused,
    ship_by_event,
)
from domain.orders import OrderStatus
from domain.orders.events import order_event
from domain.shared.events import Event
from infra.platform import payloads
from tests.fakes import T0, make_order, order_snapshot

FULFILMENT = Fulfilment(
    id=12,
    account_id=7,
    order_id=1,
    amazon_order_id="113-0000001-0000001",
    marketplace_id="ATVPDKIKX0DER",
    platform_fulfilment_id="F-1",
    state=FulfilmentState.CONFIRMED,
    shipped_at=T0,
    carrier_code="UPS",
    carrier_name=None,
    shipping_method=None,
    tracking_number="1Z",
    lines=(PackageLine("ITEM-A", 1, "MUG-RED"),),
    fingerprint="f",
)


def every_event() -> list[Event]:
    order = make_order(1)
    snapshot = order_snapshot()
    open_order = OpenOrder(
        1, 7, snapshot.amazon_order_id, "UNSHIPPED", T0 + timedelta(hours=1), snapshot.items
    )
    rejected = Rejected((FieldError("carrier_code", "required"),), conflict=True)
    return [
        order_event(7, None, order, 1),
        order_event(7, "PENDING", order, 2),
        order_event(7, "UNSHIPPED", replace(order, status=OrderStatus.CANCELLED), 3),
        FulfilmentConfirmed(FULFILMENT, ReadBack(deferred=True)),
        FulfilmentFailed(FULFILMENT, "InvalidInput", "bad"),
        FulfilmentRefused("acme", 7, "113-1", "F-1", rejected, "ab" * 32, "113-1"),
        ship_by_event(DeadlineAlert(open_order, DeadlineKind.APPROACHING), T0),
        ship_by_event(DeadlineAlert(open_order, DeadlineKind.MISSED), T0),
    ]


def test_every_event_has_its_topic() -> None:
    assert [payloads.topic(e) for e in every_event()] == [
        "orders/created",
        "orders/updated",
        "orders/cancelled",
        "fulfilments/confirmed",
        "fulfilments/failed",
        "fulfilments/failed",
        "orders/ship_by_approaching",
        "orders/ship_by_missed",
    ]


@pytest.mark.parametrize("event", every_event(), ids=lambda e: type(e).__name__)
def test_every_payload_says_amazon_notifies_the_buyer(event: Event) -> None:
    topic, text = payloads.encode(event)
    data = json.loads(text)
    assert topic == payloads.topic(event) and data == payloads.payload(event)
    assert (data["channel"], data["buyer_notified_by"]) == ("amazon", "amazon")


def test_a_refusal_says_why_and_whether_it_was_a_conflict() -> None:
    refused = every_event()[5]
    error = payloads.payload(refused)["error"]
    assert error == {
        "source": "validation",
        "code": "Conflict",
        "message": "carrier_code: required",
        "errors": [{"field": "carrier_code", "reason": "required"}],
    }


def test_an_event_of_no_known_kind_has_no_topic() -> None:
    with pytest.raises(KeyError):
        payloads.topic(Event())
