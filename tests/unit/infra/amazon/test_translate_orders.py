"""The translation of Amazon's order JSON, on Amazon's own model example."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from domain.orders import FulfilledBy, OrderStatus
from domain.shared import Money
from infra.amazon.models import load_model
from infra.amazon.translate import TranslationError, fetched, to_domain


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
