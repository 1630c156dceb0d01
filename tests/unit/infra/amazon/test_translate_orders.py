"""The translation of Amazon's order JSON, on Amazon's own model example."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from domain.orders import FulfilledBy, LineCharges, OrderStatus
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


# --- what each line charged (the item's proceeds) ---------------------------------------------


def _usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


def test_amazons_example_lines_carry_their_charges_from_the_items_proceeds() -> None:
    order = to_domain(amazon_example())
    first, second = order.lines
    assert first.charges == LineCharges("USD", principal=Decimal("99.98"), tax=Decimal("0.02"))
    assert second.charges == LineCharges("USD", principal=Decimal("49.99"))


def test_each_category_goes_to_its_part_and_tax_is_split_by_its_subtypes() -> None:
    raw = amazon_example()
    raw["orderItems"][0]["proceeds"]["breakdowns"] = [
        {"type": "ITEM", "subtotal": _usd("20.00")},
        {"type": "SHIPPING", "subtotal": _usd("5.00")},
        {"type": "GIFT_WRAP", "subtotal": _usd("3.00")},
        {"type": "DISCOUNT", "subtotal": _usd("-2.00")},
        {"type": "COD_FEE", "subtotal": _usd("1.00")},
        {
            "type": "TAX",
            "subtotal": _usd("2.80"),
            "detailedBreakdowns": [
                {"subtype": "ITEM", "value": _usd("2.00")},
                {"subtype": "SHIPPING", "value": _usd("0.50")},
                {"subtype": "GIFT_WRAP", "value": _usd("0.30")},
                {"subtype": "COD_FEE", "value": _usd("0.10")},
            ],
        },
    ]
    charges = to_domain(raw).lines[0].charges
    assert charges == LineCharges(
        "USD",
        principal=Decimal("20.00"),
        shipping=Decimal("5.00"),
        tax=Decimal("2.00"),
        shipping_tax=Decimal("0.50"),
        gift_wrap=Decimal("3.00"),
        gift_wrap_tax=Decimal("0.30"),
    )


def test_a_tax_without_detailed_breakdowns_is_all_the_items_tax() -> None:
    raw = amazon_example()
    raw["orderItems"][1]["proceeds"]["breakdowns"] = [
        {"type": "ITEM", "subtotal": _usd("49.99")},
        {"type": "SHIPPING", "subtotal": _usd("4.99")},
        {"type": "TAX", "subtotal": _usd("4.40")},
    ]
    charges = to_domain(raw).lines[1].charges
    assert charges == LineCharges(
        "USD", principal=Decimal("49.99"), shipping=Decimal("4.99"), tax=Decimal("4.40")
    )


def test_a_pending_order_charged_nothing_yet() -> None:
    raw = amazon_example()
    raw["fulfillment"]["fulfillmentStatus"] = "PENDING"
    order = to_domain(raw)  # even if Amazon sent proceeds: nothing is charged while pending
    assert all(line.charges is None for line in order.lines)


def test_a_line_without_proceeds_has_no_charges() -> None:
    raw = amazon_example()
    raw["orderItems"][0].pop("proceeds")
    assert to_domain(raw).lines[0].charges is None


@pytest.mark.parametrize(
    ("breakdowns", "reason"),
    [
        (
            [{"type": "ITEM", "subtotal": {"amount": "1.00", "currencyCode": "EUR"}}, 1],
            "orderItems[0].proceeds.breakdowns[1] is not an object (got a number)",
        ),
        (
            [
                {"type": "ITEM", "subtotal": _usd("1.00")},
                {"type": "SHIPPING", "subtotal": {"amount": "1.00", "currencyCode": "EUR"}},
            ],
            "orderItems[0].proceeds.breakdowns[1].subtotal is in EUR, the line in USD",
        ),
        (
            [{"type": "ITEM", "subtotal": {"amount": "lots", "currencyCode": "USD"}}],
            "orderItems[0].proceeds.breakdowns[0].subtotal",
        ),
        ([{"type": "ITEM"}], "orderItems[0].proceeds.breakdowns[0].subtotal is missing"),
        (
            [{"type": "TAX", "subtotal": _usd("1"), "detailedBreakdowns": [{"subtype": "ITEM"}]}],
            "orderItems[0].proceeds.breakdowns[0].detailedBreakdowns[0].value is missing",
        ),
        ("ITEM", "orderItems[0].proceeds.breakdowns is not a list (got a string)"),
    ],
)
def test_proceeds_that_do_not_translate_name_the_field(breakdowns: Any, reason: str) -> None:
    raw = amazon_example()
    raw["orderItems"][0]["proceeds"]["breakdowns"] = breakdowns
    with pytest.raises(TranslationError) as refused:
        to_domain(raw)
    assert reason in str(refused.value)
