"""The order model: Amazon-fulfilled orders are read-only, the content hash sees every change."""

from __future__ import annotations

from domain.orders import FulfilledBy, OrderStatus
from tests.fakes import T0, make_order


def test_amazon_fulfilled_orders_are_read_only() -> None:
    assert make_order(1, fulfilled_by=FulfilledBy.AMAZON).read_only
    assert not make_order(1).read_only


def test_the_content_hash_ignores_only_the_update_time() -> None:
    order = make_order(1)
    assert order.content_hash() == make_order(1, last_updated_at=T0).content_hash()
    assert order.content_hash() != make_order(1, status=OrderStatus.SHIPPED).content_hash()
