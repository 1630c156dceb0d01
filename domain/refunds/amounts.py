"""What a refund of some units of a line gives back, per component, computed from what the line
charged; and what an order's earlier refunds gave back (``refunded_before``).

The rule: each charged part (``LineCharges``: principal, shipping, tax, shipping tax, gift
wrap, gift wrap tax) times ``quantity / quantity_ordered``, rounded half-up (0.005 -> 0.01) to
the currency's minor unit: 2 decimals, 0 for JPY. When the units asked are the last ones not
yet refunded, each part is instead what remains of it (charged less refunded before), so the
units of a line never give back more, or less, than the line charged: three refunds of 1 unit
of a 3-unit line that charged 10.00 give 3.33, 3.33 and 3.34.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from domain.orders import LineCharges
from domain.refunds.components import CHARGED, Component
from domain.refunds.model import Refund, RefundKind, RefundState
from domain.shared import Money

# Currencies without a minor unit among Amazon's marketplaces'.
ZERO_DECIMAL: frozenset[str] = frozenset({"JPY"})
_ZERO = Decimal(0)


def minor_digits(currency: str) -> int:
    """The decimals an amount in ``currency`` has: 2, or 0 for JPY."""
    return 0 if currency in ZERO_DECIMAL else 2


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-minor_digits(currency)), rounding=ROUND_HALF_UP)


def tidy(amount: Decimal, currency: str) -> Decimal:
    """``amount`` with the currency's decimals when that loses nothing (10.0000 -> 10.00),
    else as it is: stored amounts keep four places."""
    rounded = round_money(amount, currency)
    return rounded if rounded == amount else amount


def has_sub_minor(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` holds more decimals than the currency has (0.001 USD, 1.5 JPY)."""
    return amount != round_money(amount, currency)


def charged_by_component(charges: LineCharges) -> dict[Component, Decimal]:
    """What the line charged for each component a refund gives back against its own charge."""
    return {
        Component.ITEM_PRICE: charges.principal,
        Component.SHIPPING: charges.shipping,
        Component.TAX: charges.tax,
        Component.SHIPPING_TAX: charges.shipping_tax,
        Component.GIFT_WRAP: charges.gift_wrap,
        Component.GIFT_WRAP_TAX: charges.gift_wrap_tax,
    }


def amounts_for_quantity(
    charges: LineCharges,
    quantity_ordered: int,
    quantity: int,
    *,
    units_before: int = 0,
    refunded_before: Mapping[Component, Decimal] | None = None,
) -> tuple[tuple[Component, Money], ...]:
    """What ``quantity`` units of a line give back, per charged component (zero ones left out,
    in ``CHARGED``'s order). ``units_before`` are the line's units refunded or cancelled before,
    ``refunded_before`` what was given back before per component: when ``quantity`` takes the
    last units, each component is its remainder (never below zero)."""
    if quantity_ordered <= 0 or quantity <= 0:
        return ()
    before = refunded_before or {}
    charged = charged_by_component(charges)
    last = units_before + quantity >= quantity_ordered
    found = []
    for component in CHARGED:
        if last:
            left = charged[component] - before.get(component, _ZERO)
            amount = tidy(max(left, _ZERO), charges.currency)
        else:
            amount = round_money(charged[component] * quantity / quantity_ordered, charges.currency)
        if amount != 0:
            found.append((component, Money(amount, charges.currency)))
    return tuple(found)


@dataclass
class RefundedBefore:
    """What an order's earlier refunds and cancellations (not failed) gave back, per item."""

    amounts: dict[str, dict[Component, Decimal]] = field(default_factory=dict)
    net: dict[str, Decimal] = field(default_factory=dict)  # credits less what was kept back
    units: dict[str, int] = field(default_factory=dict)  # refunded or cancelled, when known
    cancelled: dict[str, int] = field(default_factory=dict)
    whole_order: Refund | None = None  # a cancellation of the whole order

    def of(self, order_item_id: str) -> dict[Component, Decimal]:
        return self.amounts.get(order_item_id, {})


def refunded_before(refunded: Sequence[Refund]) -> RefundedBefore:
    before = RefundedBefore()
    for refund in refunded:
        if refund.state is RefundState.FAILED:
            continue
        cancellation = refund.kind is RefundKind.CANCELLATION
        if cancellation and refund.whole_order and before.whole_order is None:
            before.whole_order = refund
        for line in refund.lines:
            item = line.order_item_id
            amounts = before.amounts.setdefault(item, {})
            for component, money in line.amounts:
                amounts[component] = amounts.get(component, _ZERO) + money.amount
            before.net[item] = before.net.get(item, _ZERO) + line.total.amount
            if line.quantity is not None:
                before.units[item] = before.units.get(item, 0) + line.quantity
                if cancellation:
                    before.cancelled[item] = before.cancelled.get(item, 0) + line.quantity
    return before
