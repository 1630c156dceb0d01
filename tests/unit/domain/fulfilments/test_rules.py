"""The rules of intake, driven through ``accept_fulfilment``: what an order takes, which items
a package holds, and how urgent a confirmation is."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from domain.fulfilments import Accepted, ItemSnapshot, urgency
from tests.fakes import T0, FakeFulfilmentStore, FixedClock, order_snapshot
from tests.unit.domain.fulfilments.helpers import accept, accepted, reasons


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"fulfilled_by": "AMAZON"}, "fulfilled by Amazon: it cannot be fulfilled here"),
        ({"status": "CANCELLED"}, "the order is cancelled on Amazon"),
        ({"status": "PENDING"}, "the order is PENDING on Amazon"),
    ],
)
def test_an_order_that_cannot_ship_from_here_is_refused(
    store: FakeFulfilmentStore, clock: FixedClock, changes: dict[str, Any], reason: str
) -> None:
    store.add_order(order_snapshot(**changes))
    assert reasons(accept(store, clock))["amazon_order_id"].startswith(reason)
    assert not store.rows


def test_more_than_remains_unshipped_is_refused_counting_earlier_fulfilments(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    accepted(store, clock, lines=[{"order_item_id": "ITEM-A", "quantity": 2}])
    result = accept(
        store,
        clock,
        platform_fulfilment_id="F-2",
        lines=[{"order_item_id": "ITEM-A", "quantity": 2}],
    )
    assert (
        "more than remains unshipped: 2 asked, 1 of 3 remain"
        in reasons(result)["lines[0].quantity"]
    )


def test_partial_shipments_in_several_packages_add_up_to_the_order(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    accepted(store, clock, lines=[{"order_item_id": "ITEM-A", "quantity": 1}])
    accepted(
        store,
        clock,
        platform_fulfilment_id="F-2",
        tracking_number="T2",
        lines=[{"order_item_id": "ITEM-A", "quantity": 2}],
    )
    rest = accepted(store, clock, platform_fulfilment_id="F-3", tracking_number="T3", lines=[])
    assert [(ln.order_item_id, ln.quantity) for ln in rest.lines] == [("ITEM-B", 1)]
    nothing = accept(store, clock, platform_fulfilment_id="F-4", lines=[])
    assert reasons(nothing)["lines"] == "nothing remains unshipped on this order"


def test_a_buyers_cancellation_request_blocks_until_someone_reviewed_it(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.add_order(
        order_snapshot(buyer_cancel_requested=True, buyer_cancel_reason="ORDERED_BY_MISTAKE")
    )
    refused = reasons(accept(store, clock))["cancellation_request_reviewed"]
    assert "the buyer asked to cancel this order (ORDERED_BY_MISTAKE)" in refused
    assert isinstance(accept(store, clock, cancellation_request_reviewed=True), Accepted)


def test_a_ship_time_in_the_future_or_before_the_purchase_is_refused(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    future = (T0 + timedelta(hours=1)).isoformat()
    assert reasons(accept(store, clock, shipped_at=future))["shipped_at"] == "is in the future"
    early = (T0 - timedelta(days=2)).isoformat()
    assert (
        "before the order was purchased"
        in reasons(accept(store, clock, shipped_at=early))["shipped_at"]
    )


def test_an_unknown_item_or_ambiguous_sku_is_refused(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    order = order_snapshot()
    store.add_order(replace(order, items=(*order.items, ItemSnapshot("ITEM-C", "MUG-RED", 1, 0))))
    result = accept(
        store,
        clock,
        lines=[{"order_item_id": "NOPE", "quantity": 1}, {"sku": "MUG-RED", "quantity": 1}],
    )
    assert reasons(result) == {
        "lines[0].order_item_id": "not an item of this order",
        "lines[1].sku": "several items of this order have it: name the order_item_id",
    }


def test_the_nearest_ship_by_is_the_most_urgent() -> None:
    levels = [urgency(T0 + timedelta(hours=h), T0) for h in (-1, 1, 5, 30, 100)]
    assert levels == [0, 0, 3, 6, 9]
    assert urgency(None, T0) == 9
