"""Fulfilment events: keyed by their order (a refused request without one by its digest), and
the ship-by event of an alert."""

from __future__ import annotations

from datetime import timedelta

from domain.fulfilments import DeadlineAlert, DeadlineKind, FieldError, OpenOrder, Rejected
from domain.fulfilments.events import (
    FulfilmentRefused,
    ShipByApproaching,
    ShipByMissed,
    ship_by_event,
)
from tests.fakes import T0, order_snapshot


def open_order(ship_by_in: timedelta) -> OpenOrder:
    order = order_snapshot()
    return OpenOrder(
        order.order_id,
        order.account_id,
        order.amazon_order_id,
        order.status,
        T0 + ship_by_in,
        order.items,
    )


def test_a_ship_by_alert_becomes_its_event_with_the_minutes_left_rounded_down() -> None:
    soon = ship_by_event(
        DeadlineAlert(open_order(timedelta(minutes=90, seconds=59)), DeadlineKind.APPROACHING), T0
    )
    late = ship_by_event(DeadlineAlert(open_order(-timedelta(seconds=1)), DeadlineKind.MISSED), T0)
    assert isinstance(soon, ShipByApproaching) and soon.minutes_left == 90
    assert isinstance(late, ShipByMissed) and late.minutes_left == -1
    assert soon.aggregate_key == f"order:7:{soon.order.amazon_order_id}"


def test_a_refused_request_is_keyed_by_its_order_or_else_by_its_digest() -> None:
    rejected = Rejected((FieldError("carrier_code", "required"),))
    known = FulfilmentRefused("acme", 7, "113-1", "F-1", rejected, "ab" * 32, "113-1")
    unknown = FulfilmentRefused("nobody", None, "113-1", "F-1", rejected, "cd" * 32, "113-1")
    assert known.aggregate_key == "order:7:113-1"
    assert unknown.aggregate_key == "fulfilment-request:" + "cd" * 16
