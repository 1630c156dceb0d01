"""Ship-by alerts: once per order and kind, none for an order our fulfilments cover."""

from __future__ import annotations

from datetime import timedelta

from domain.fulfilments import DeadlineKind, check_deadlines, deadline_kind
from tests.fakes import T0, FakeFulfilmentStore, FixedClock, order_snapshot
from tests.unit.domain.fulfilments.helpers import accepted


def test_ship_by_warnings_go_out_once_per_order_and_kind(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.add_order(order_snapshot(ship_by_latest=T0 + timedelta(hours=5)))
    store.add_order(
        order_snapshot(order_id=2, amazon_order_id="113-0000002-0000002", ship_by_latest=T0)
    )
    warning = timedelta(hours=24)
    first = check_deadlines(store, clock, warning)
    second = check_deadlines(store, clock, warning)
    assert (first.approaching, first.missed) == (1, 1)
    assert (second.approaching, second.missed) == (0, 0)
    clock.at = T0 + timedelta(hours=6)
    later = check_deadlines(store, clock, warning)
    assert (later.approaching, later.missed) == (0, 1)
    assert sorted(topic for topic, _ in store.events) == [
        "orders/ship_by_approaching",
        "orders/ship_by_missed",
        "orders/ship_by_missed",
    ]


def test_an_order_our_fulfilments_cover_is_not_warned_about(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.add_order(order_snapshot(ship_by_latest=T0 + timedelta(hours=5)))
    accepted(store, clock, lines=[])
    report = check_deadlines(store, clock, timedelta(hours=24))
    assert (report.checked, report.approaching) == (0, 0)


def test_a_deadline_check_already_running_makes_the_second_skip(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.deadline_busy = True
    assert check_deadlines(store, clock, timedelta(hours=24)).skipped


def test_deadline_kinds() -> None:
    day = timedelta(hours=24)
    assert deadline_kind(None, T0, day) is None
    assert deadline_kind(T0 + timedelta(hours=25), T0, day) is None
    assert deadline_kind(T0 + timedelta(hours=23), T0, day) is DeadlineKind.APPROACHING
    assert deadline_kind(T0, T0, day) is DeadlineKind.MISSED
