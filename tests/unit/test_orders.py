"""Order rules and the translation of Amazon's order JSON, on Amazon's own model example."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.orders import FulfilledBy, OrderProblem, OrderStatus, Topic, check_order, event_topic
from domain.shared import Money, MoneyError
from infra.amazon.models import load_model
from infra.amazon.translate import TranslationError, fetched, to_domain
from tests.fakes import T0, make_order


def amazon_example() -> dict[str, Any]:
    """The first order of the searchOrders 200 example in Amazon's Orders v2026-01-01 model."""
    op = load_model("orders2026")["paths"]["/orders/2026-01-01/orders"]["get"]
    body = op["responses"]["200"]["examples"]["application/json"]
    return copy.deepcopy(body["orders"][0])


def test_amazons_example_order_translates_with_every_field_the_store_keeps() -> None:
    order = to_domain(amazon_example())
    assert order.amazon_order_id == "123-4567890-1234567"
    assert order.status is OrderStatus.SHIPPED
    assert order.fulfilled_by is FulfilledBy.MERCHANT
    assert order.total == Money(Decimal("154.99"), "USD")
    assert order.is_business and order.is_prime
    assert order.is_replacement and order.replaced_order_id == "123-4567890-1234566"
    assert order.ship_by_latest is not None and order.ship_by_latest.tzinfo is not None
    assert order.lines[0].order_item_id == "12345678901234"
    assert order.lines[0].quantity_ordered == 2


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda o: o["fulfillment"].update(fulfillmentStatus="TELEPORTED"), "fulfillmentStatus"),
        (lambda o: o.update(createdTime="yesterday"), "createdTime"),
        (lambda o: o.update(createdTime="2026-01-01T10:00:00"), "no time zone"),
        (lambda o: o["orderItems"][0].update(quantityOrdered="two"), "quantityOrdered"),
        (lambda o: o["proceeds"]["grandTotal"].update(amount="lots"), "grandTotal"),
        (lambda o: o.pop("orderItems"), "orderItems"),
    ],
)
def test_an_order_that_does_not_translate_is_set_aside_with_the_field_named(
    mutate: Any, reason: str
) -> None:
    raw = amazon_example()
    mutate(raw)
    result = fetched(raw)
    assert result.order is None
    assert result.problem is not None and reason in result.problem
    with pytest.raises(TranslationError):
        to_domain(raw)


def test_a_buyer_cancellation_request_is_carried_on_the_order_and_its_item() -> None:
    raw = amazon_example()
    raw["orderItems"][0]["cancellation"] = {
        "cancellationRequest": {"requester": "BUYER", "cancelReason": "Ordered by mistake"}
    }
    order = to_domain(raw)
    assert order.buyer_cancel_requested
    assert order.buyer_cancel_reason == "Ordered by mistake"


def test_a_pending_order_has_no_prices_and_no_total() -> None:
    raw = amazon_example()
    raw["fulfillment"]["fulfillmentStatus"] = "PENDING"
    raw.pop("proceeds")
    for item in raw["orderItems"]:
        item["product"].pop("price", None)
    order = to_domain(raw)
    assert order.total is None and order.currency is None


def test_check_order_refuses_nonsense_dates_and_mixed_currencies() -> None:
    with pytest.raises(OrderProblem, match="makes no sense"):
        check_order(make_order(1, purchased_at=T0 + timedelta(days=2)), T0)
    with pytest.raises(OrderProblem, match="before the purchase"):
        check_order(make_order(1, last_updated_at=T0 - timedelta(days=3)), T0)
    with pytest.raises(OrderProblem, match="mixes currencies"):
        check_order(make_order(1, total=Money(Decimal("1"), "EUR")), T0)
    check_order(make_order(1), T0)


def test_event_topics_follow_the_order_life() -> None:
    order = make_order(1)
    assert event_topic(None, order) is Topic.ORDER_CREATED
    assert event_topic("PENDING", order) is Topic.ORDER_UPDATED
    cancelled = make_order(1, status=OrderStatus.CANCELLED)
    assert event_topic("UNSHIPPED", cancelled) is Topic.ORDER_CANCELLED
    assert event_topic(None, cancelled) is Topic.ORDER_CANCELLED
    assert event_topic("CANCELLED", cancelled) is Topic.ORDER_UPDATED


def test_amazon_fulfilled_orders_are_read_only() -> None:
    assert make_order(1, fulfilled_by=FulfilledBy.AMAZON).read_only
    assert not make_order(1).read_only


def test_the_content_hash_ignores_only_the_update_time() -> None:
    order = make_order(1)
    assert order.content_hash() == make_order(1, last_updated_at=T0).content_hash()
    assert order.content_hash() != make_order(1, status=OrderStatus.SHIPPED).content_hash()


def test_money_is_decimal_with_a_currency() -> None:
    assert Money.parse("1.10", "USD") + Money.parse("2.20", "USD") == Money.parse("3.30", "USD")
    with pytest.raises(MoneyError):
        Money.parse("1.10", "USD") + Money.parse("1", "EUR")
    with pytest.raises(MoneyError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money.parse("NaN", "USD")
    with pytest.raises(MoneyError):
        Money.parse("1", "usd")
