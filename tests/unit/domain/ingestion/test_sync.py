"""The sync use case on fakes of its ports: windows, resume points, set-aside orders."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.ingestion import FetchedOrder, sync_orders
from domain.orders import OrderStatus
from tests.fakes import T0, FakeSource, FakeStore, FixedClock, fetched, make_order


def _source(n: int, **kwargs: object) -> FakeSource:
    return FakeSource([fetched(make_order(i)) for i in range(n)], **kwargs)  # type: ignore[arg-type]


def test_a_sync_walks_every_page_and_moves_the_watermark_to_amazons_window_end() -> None:
    source, store = _source(5), FakeStore()
    report = sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    assert (report.pages, report.created) == (3, 5)
    assert len(store.orders) == 5
    cursor = store.load_cursor(1, "orders")
    assert cursor.watermark == source.window_before
    assert not cursor.in_window


def test_a_sync_run_twice_stores_each_order_once_and_emits_no_second_event() -> None:
    source, store = _source(5), FakeStore()
    sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    again = sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert len(store.events) == 5


def test_the_next_sync_starts_an_overlap_before_the_watermark() -> None:
    source, store = _source(1), FakeStore()
    sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    sync_orders(
        account_id=1, source=source, store=store, clock=FixedClock(), overlap=timedelta(minutes=5)
    )
    assert source.calls[-1] == (source.window_before - timedelta(minutes=5), None)


def test_a_fitted_overlap_is_asked_with_the_watermark_and_the_closed_window_is_reported() -> None:
    source, store = _source(1), FakeStore()
    first = sync_orders(account_id=1, source=source, store=store, clock=FixedClock(), start=T0)
    assert (first.window_after, first.watermark) == (T0, source.window_before)
    asked = []

    def fit(watermark: object) -> timedelta:
        asked.append(watermark)
        return timedelta(seconds=90)

    sync_orders(account_id=1, source=source, store=store, clock=FixedClock(), fit_overlap=fit)
    assert asked == [source.window_before]
    assert source.calls[-1] == (source.window_before - timedelta(seconds=90), None)


def test_a_sync_that_dies_half_way_resumes_from_its_last_committed_page() -> None:
    source, store = _source(6, fail_at_page=2), FakeStore()
    with pytest.raises(ConnectionError):
        sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    assert len(store.orders) == 4
    assert store.load_cursor(1, "orders").watermark is None  # not advanced past a gap
    sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    assert len(store.orders) == 6
    assert source.calls[-1][1] == "4"  # resumed at the failed page, not from the start
    assert store.load_cursor(1, "orders").watermark == source.window_before


def test_an_expired_pagination_token_restarts_the_window() -> None:
    source, store = _source(6, fail_at_page=1), FakeStore()
    with pytest.raises(ConnectionError):
        sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    source.expire_token_once = True
    sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    assert len(store.orders) == 6
    assert None in [token for _, token in source.calls[2:]]


def test_odd_orders_are_set_aside_with_a_reason_and_the_others_are_stored() -> None:
    good = make_order(1)
    future = make_order(2, purchased_at=T0 + timedelta(days=30))
    unreadable = FetchedOrder("113-0000003-0000001", {"orderId": "x"}, problem="bad status")
    no_items = make_order(4, lines=())
    source = FakeSource([fetched(good), fetched(future), unreadable, fetched(no_items)])
    store = FakeStore()
    report = sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    assert list(store.orders) == [good.amazon_order_id]
    assert report.set_aside == 3
    assert "makes no sense" in store.set_aside[future.amazon_order_id]
    assert store.set_aside["113-0000003-0000001"] == "bad status"
    assert store.set_aside[no_items.amazon_order_id] == "the order has no items"


def test_a_second_sync_of_the_same_account_does_nothing_while_the_first_runs() -> None:
    source, store = _source(2), FakeStore()
    store.locked.add((1, "orders"))
    report = sync_orders(account_id=1, source=source, store=store, clock=FixedClock())
    assert report.skipped and source.calls == []


def test_a_status_change_is_an_update_and_a_cancellation_is_its_own_event() -> None:
    order = make_order(1)
    store = FakeStore()
    sync_orders(account_id=1, source=FakeSource([fetched(order)]), store=store, clock=FixedClock())
    later = order.last_updated_at + timedelta(minutes=1)
    shipped = replace(order, status=OrderStatus.SHIPPED, last_updated_at=later)
    sync_orders(
        account_id=1, source=FakeSource([fetched(shipped)]), store=store, clock=FixedClock()
    )
    cancelled = replace(
        order, status=OrderStatus.CANCELLED, last_updated_at=later + timedelta(minutes=1)
    )
    sync_orders(
        account_id=1, source=FakeSource([fetched(cancelled)]), store=store, clock=FixedClock()
    )
    assert [topic for topic, _ in store.events] == [
        "orders/created",
        "orders/updated",
        "orders/cancelled",
    ]


def test_an_older_copy_of_an_order_never_overwrites_a_newer_one() -> None:
    order = make_order(1, status=OrderStatus.SHIPPED)
    store = FakeStore()
    sync_orders(account_id=1, source=FakeSource([fetched(order)]), store=store, clock=FixedClock())
    stale = replace(
        order,
        status=OrderStatus.UNSHIPPED,
        last_updated_at=order.last_updated_at - timedelta(minutes=1),
    )
    sync_orders(account_id=1, source=FakeSource([fetched(stale)]), store=store, clock=FixedClock())
    assert store.orders[order.amazon_order_id].status is OrderStatus.SHIPPED
