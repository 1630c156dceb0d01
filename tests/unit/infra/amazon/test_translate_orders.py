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


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (
            lambda o: o.update(fulfillment="TELEPORTED"),
            "fulfillment is not an object (got a string)",
        ),
        (lambda o: o.update(salesChannel=5), "salesChannel is not an object (got a number)"),
        (lambda o: o.update(proceeds=[1]), "proceeds is not an object (got a list)"),
        (
            lambda o: o["fulfillment"].update(shipByWindow=True),
            "fulfillment.shipByWindow is not an object (got a boolean)",
        ),
        (
            lambda o: o["fulfillment"].update(deliverByWindow="x"),
            "fulfillment.deliverByWindow is not an object (got a string)",
        ),
        (
            lambda o: o["fulfillment"].update(fulfillmentServiceLevel=[1, 2]),
            "fulfillment.fulfillmentServiceLevel is not text (got a list)",
        ),
        (lambda o: o.update(programs=5), "programs is not a list (got a number)"),
        (lambda o: o.update(programs="PRIME"), "programs is not a list (got a string)"),
        (lambda o: o.update(associatedOrders=True), "associatedOrders is not a list"),
        (
            lambda o: o.update(
                associatedOrders=[{"associationType": "REPLACEMENT_ORIGINAL_ID", "orderId": 7}]
            ),
            "associatedOrders[0].orderId is not text (got a number)",
        ),
        (
            lambda o: o["orderItems"][0].update(product="x"),
            "orderItems[0].product is not an object (got a string)",
        ),
        (
            lambda o: o["orderItems"][0]["product"].update(price=3),
            "orderItems[0].product.price is not an object",
        ),
        (
            lambda o: o["orderItems"][0]["product"].update(sellerSku=12),
            "orderItems[0].product.sellerSku is not text (got a number)",
        ),
        (
            lambda o: o["orderItems"][0]["product"].update(asin={"a": 1}),
            "orderItems[0].product.asin is not text (got an object)",
        ),
        (
            lambda o: o["orderItems"][0]["product"].update(title=False),
            "orderItems[0].product.title is not text (got a boolean)",
        ),
        (
            lambda o: o["orderItems"][0].update(fulfillment=[1]),
            "orderItems[0].fulfillment is not an object",
        ),
        (
            lambda o: o["orderItems"][0].update(cancellation={"cancellationRequest": True}),
            "orderItems[0].cancellation.cancellationRequest is not an object",
        ),
        (
            lambda o: o["orderItems"][0].update(
                cancellation={"cancellationRequest": {"cancelReason": 5}}
            ),
            "orderItems[0].cancellation.cancellationRequest.cancelReason is not text",
        ),
        (lambda o: o.update(createdTime="0001-01-01T00:00:00+14:00"), "outside the calendar"),
        (lambda o: o.update(lastUpdatedTime="9999-12-31T23:59:59-14:00"), "outside the calendar"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_translation_error_naming_the_field(
    mutate: Any, reason: str
) -> None:
    raw = amazon_example()
    mutate(raw)
    with pytest.raises(TranslationError) as refused:
        to_domain(raw)
    assert reason in str(refused.value)
    assert fetched(raw).problem == str(refused.value)


@pytest.mark.parametrize("empty", [None, {}, [], "", 0, False])
def test_an_absent_or_empty_optional_section_is_as_good_as_none(empty: Any) -> None:
    raw = amazon_example()
    raw["fulfillment"]["shipByWindow"] = empty
    raw["programs"] = empty
    raw["associatedOrders"] = empty
    raw["orderItems"][0]["product"]["price"] = empty
    raw["orderItems"][0]["cancellation"] = empty
    order = to_domain(raw)
    assert order.ship_by_latest is None and order.programs == ()
    assert not order.is_replacement and order.lines[0].unit_price is None
    assert not order.lines[0].cancel_requested
