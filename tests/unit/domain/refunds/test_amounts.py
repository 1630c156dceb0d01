"""What some units of a line give back: each charged part pro rata, rounded half-up to the
currency's minor unit, and the remainder for the last units, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.orders import LineCharges
from domain.refunds import Component, amounts_for_quantity, minor_digits, round_money
from domain.shared import Money

C = Component


def _plain(amounts: tuple[tuple[Component, Money], ...]) -> dict[Component, str]:
    return {component: str(money.amount) for component, money in amounts}


def test_three_refunds_of_one_unit_of_ten_give_3_33_3_33_3_34_never_10_01() -> None:
    charges = LineCharges("USD", principal=Decimal("10.00"))
    given: dict[Component, Decimal] = {}
    parts = []
    for units_before in range(3):
        amounts = amounts_for_quantity(
            charges, 3, 1, units_before=units_before, refunded_before=given
        )
        ((component, money),) = amounts
        assert component is C.ITEM_PRICE
        parts.append(str(money.amount))
        given[component] = given.get(component, Decimal(0)) + money.amount
    assert parts == ["3.33", "3.33", "3.34"]
    assert sum(given.values()) == Decimal("10.00")


def test_every_charged_part_is_pro_rata_and_zero_parts_are_left_out() -> None:
    charges = LineCharges(
        "USD",
        principal=Decimal("30.00"),
        shipping=Decimal("6.00"),
        tax=Decimal("3.00"),
        shipping_tax=Decimal("0.60"),
        gift_wrap=Decimal("0.00"),
        gift_wrap_tax=Decimal("0"),
    )
    amounts = amounts_for_quantity(charges, 3, 2)
    assert _plain(amounts) == {
        C.ITEM_PRICE: "20.00",
        C.SHIPPING: "4.00",
        C.TAX: "2.00",
        C.SHIPPING_TAX: "0.40",
    }
    assert [component for component, _ in amounts] == [
        C.ITEM_PRICE,
        C.SHIPPING,
        C.TAX,
        C.SHIPPING_TAX,
    ]


def test_rounding_is_half_up_to_the_cent() -> None:
    # 0.05 / 2 = 0.025 -> 0.03 (half-up, not banker's 0.02); 1.00 / 3 = 0.333.. -> 0.33
    charges = LineCharges("USD", principal=Decimal("1.00"), tax=Decimal("0.05"))
    assert _plain(amounts_for_quantity(charges, 2, 1)) == {C.ITEM_PRICE: "0.50", C.TAX: "0.03"}
    assert _plain(amounts_for_quantity(charges, 3, 1)) == {C.ITEM_PRICE: "0.33", C.TAX: "0.02"}
    assert _plain(amounts_for_quantity(charges, 3, 2)) == {C.ITEM_PRICE: "0.67", C.TAX: "0.03"}


def test_yen_has_no_minor_unit() -> None:
    charges = LineCharges("JPY", principal=Decimal("1000"), tax=Decimal("100"))
    assert minor_digits("JPY") == 0 and minor_digits("EUR") == 2
    assert _plain(amounts_for_quantity(charges, 3, 1)) == {C.ITEM_PRICE: "333", C.TAX: "33"}
    assert _plain(amounts_for_quantity(charges, 6, 1)) == {C.ITEM_PRICE: "167", C.TAX: "17"}
    before = {C.ITEM_PRICE: Decimal(666), C.TAX: Decimal(66)}
    last = amounts_for_quantity(charges, 3, 1, units_before=2, refunded_before=before)
    assert _plain(last) == {C.ITEM_PRICE: "334", C.TAX: "34"}


def test_the_last_units_take_what_remains_after_refunds_by_amount_too() -> None:
    charges = LineCharges("EUR", principal=Decimal("30.0000"), shipping=Decimal("5.0000"))
    before = {C.ITEM_PRICE: Decimal("5.00")}  # a price adjustment, by amount, before
    amounts = amounts_for_quantity(charges, 3, 3, refunded_before=before)
    assert _plain(amounts) == {C.ITEM_PRICE: "25.00", C.SHIPPING: "5.00"}


def test_a_remainder_already_given_back_gives_nothing_more() -> None:
    charges = LineCharges("USD", principal=Decimal("10.00"))
    before = {C.ITEM_PRICE: Decimal("10.00")}
    assert amounts_for_quantity(charges, 1, 1, refunded_before=before) == ()


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("2.345", "USD", "2.35"),
        ("2.344", "USD", "2.34"),
        ("-2.345", "USD", "-2.35"),
        ("0.5", "JPY", "1"),
        ("1.49", "JPY", "1"),
    ],
)
def test_round_money_is_half_up_away_from_zero(amount: str, currency: str, rounded: str) -> None:
    assert str(round_money(Decimal(amount), currency)) == rounded
