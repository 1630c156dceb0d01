"""An order's events: which one a write produces, keyed by the order."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from domain.orders import OrderStatus
from domain.orders.events import (
    OrderCancelled,
    OrderCreated,
    OrderUpdated,
    order_event,
    order_key,
)
from tests.fakes import make_order


def test_the_event_of_a_write_follows_the_order_life() -> None:
    order = make_order(1)
    cancelled = replace(order, status=OrderStatus.CANCELLED)
    assert type(order_event(7, None, order, 1)) is OrderCreated
    assert type(order_event(7, "PENDING", order, 2)) is OrderUpdated
    assert type(order_event(7, "UNSHIPPED", cancelled, 3)) is OrderCancelled
    assert type(order_event(7, None, cancelled, 1)) is OrderCancelled
    assert type(order_event(7, "CANCELLED", cancelled, 4)) is OrderUpdated


def test_an_order_event_is_a_value_keyed_by_its_order_with_an_id_of_its_own() -> None:
    order = make_order(1)
    first, second = order_event(7, None, order, 1), order_event(7, None, order, 1)
    assert first.aggregate_key == order_key(7, order.amazon_order_id)
    assert first.aggregate_key == f"order:7:{order.amazon_order_id}"
    assert (first.order, first.version, first.account_id) == (order, 1, 7)
    assert first.event_id != second.event_id
    with pytest.raises(FrozenInstanceError):
        first.version = 2  # type: ignore[misc]
