"""What an item was charged and what Amazon keeps: shares of a line add up to the line, fees
follow the schedule, and a refund changes every sign without a negative zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.amazon.sandbox.state import SandboxItem, charged, money, negate, shipping_tax
from infra.amazon.sandbox.state.charges import refund_amounts, share, shipment_amounts


def _item(
    quantity: int = 3, unit: str = "9.99", shipping: str = "4.99", tax: str = "2.80"
) -> SandboxItem:
    return SandboxItem(
        order_item_id="11111111111111",
        asin="B000000001",
        sku="A-1",
        title="Thing",
        quantity=quantity,
        unit_price=Decimal(unit),
        shipping_price=Decimal(shipping),
        tax=Decimal(tax),
    )


@pytest.mark.parametrize("splits", [(1, 1, 1), (2, 1), (1, 2), (3,)])
def test_the_shares_of_every_shipment_add_up_to_what_the_line_charged(
    splits: tuple[int, ...],
) -> None:
    item = _item()
    totals: dict[str, Decimal] = {}
    before = 0
    for units in splits:
        charges, _, _ = shipment_amounts(item, "USD", before, units, "MERCHANT")
        for kind, amount in charges:
            totals[kind] = totals.get(kind, Decimal(0)) + amount
        before += units

    paid = charged(item, "USD")
    assert totals["Principal"] == paid["Principal"] == Decimal("29.97")
    assert totals["ShippingCharge"] == paid["Shipping"]
    assert totals["Tax"] + totals["ShippingTax"] == item.tax
    assert totals["ShippingTax"] == shipping_tax(item, "USD")
    assert share(Decimal("1.00"), 3, 0, 1, "USD") + share(Decimal("1.00"), 3, 1, 2, "USD") == 1


def test_fees_follow_the_schedule() -> None:
    item = _item(quantity=2, unit="10.00")

    _, mfn_fees, withheld = shipment_amounts(item, "USD", 0, 2, "MERCHANT")
    _, afn_fees, _ = shipment_amounts(item, "USD", 0, 2, "AMAZON")
    _, untaxed_fees, untaxed = shipment_amounts(_item(tax="0"), "USD", 0, 1, "MERCHANT")

    assert dict(mfn_fees) == {"FixedClosingFee": Decimal("0.00"), "Commission": Decimal("-3.00")}
    assert dict(afn_fees)["FBAPerUnitFulfillmentFee"] == Decimal("-6.44")
    assert {kind for kind, _ in withheld} == {
        "MarketplaceFacilitatorTax-Principal",
        "MarketplaceFacilitatorTax-Shipping",
    }
    assert sum(amount for _, amount in withheld) == -item.tax
    assert untaxed == ()
    assert dict(untaxed_fees)["Commission"] == money(Decimal("-1.50"), "USD")


def test_a_refund_turns_every_sign_and_keeps_a_refund_commission() -> None:
    components = (
        ("Principal", Decimal("20.00")),
        ("Shipping", Decimal("4.99")),
        ("Tax", Decimal("1.60")),
        ("RestockingFee", Decimal("-2.00")),
    )

    charges, fees, withheld = refund_amounts(components, "USD", taxed=True)
    _, big_fees, _ = refund_amounts((("Principal", Decimal("1000.00")),), "USD", taxed=True)
    _, no_fees, _ = refund_amounts((("Goodwill", Decimal("5.00")),), "USD", taxed=False)

    assert charges == (
        ("Principal", Decimal("-20.00")),
        ("ShippingCharge", Decimal("-4.99")),
        ("Tax", Decimal("-1.60")),
        ("RestockingFee", Decimal("2.00")),
    )
    assert fees == (("Commission", Decimal("3.00")), ("RefundCommission", Decimal("-0.60")))
    assert withheld == (("MarketplaceFacilitatorTax-Principal", Decimal("1.60")),)
    assert dict(big_fees)["RefundCommission"] == Decimal("-5.00")  # at most 5.00
    assert all(not amount.is_signed() for _, amount in no_fees)  # zero, never -0
    assert not negate(Decimal("0.00")).is_signed()


def test_amounts_round_to_the_currency() -> None:
    assert money(Decimal("1.005"), "USD") == Decimal("1.01")
    assert money(Decimal("150.5"), "JPY") == Decimal("151")
