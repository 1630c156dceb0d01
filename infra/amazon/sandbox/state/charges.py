"""What an order item was charged and what Amazon keeps of it: one source for the adjustment
feed's limits, the Seller Central refund and the financial events, so a refund's cap and a
shipment event's ``ItemChargeList`` can never disagree.

Charges are by the adjustment feed's component ``Type`` (``Principal``, ``Shipping``, ``Tax``,
``ShippingTax``, ``GiftWrap``, ``GiftWrapTax``); the financial events name them by their
``ChargeType`` (``CHARGE_TYPES``: ``Shipping`` is ``ShippingCharge`` there). The line's tax is
split between the item and its shipping at one rate (``shipping_tax``).

Amazon's fees, as the sandbox charges them (a simple, fixed schedule):

- ``Commission`` (the referral fee): a percentage of the principal by the item's category,
  which the sandbox reads from the SKU's prefix (``REFERRAL_RATES``: ``ELEC-`` and ``CAM-``
  8%, ``JEWEL-`` 20%, anything else 15%), negative on a shipment; a refund gives back the same
  percentage of the principal refunded and keeps a ``RefundCommission`` (the refund
  administration fee) of 20% of the commission given back, at most 5.00 (500 in JPY).
- ``FixedClosingFee``: 0 (it applies to media, which the sandbox does not sell).
- ``FBAPerUnitFulfillmentFee`` on Amazon-fulfilled orders: 3.22 per unit (420 in JPY).

Every taxed item's tax is collected by Amazon as marketplace facilitator, so events carry the
tax withheld (``MarketplaceFacilitatorTax-Principal`` / ``-Shipping``) against the tax charged.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from infra.amazon.sandbox.state.records import SandboxItem

MINOR_UNITS = {"JPY": 0}
COMMISSION_RATE = Decimal("0.15")  # the default referral percentage
# Referral percentages by category, the category being the SKU's prefix (Amazon's schedule has
# 8% for electronics and cameras, 20% for jewellery above a threshold; simplified).
REFERRAL_RATES: dict[str, Decimal] = {
    "ELEC-": Decimal("0.08"),
    "CAM-": Decimal("0.08"),
    "JEWEL-": Decimal("0.20"),
}
REFUND_COMMISSION_RATE = Decimal("0.20")
_REFUND_COMMISSION_CAP = {"JPY": Decimal(500)}
_FBA_FEE_PER_UNIT = {"JPY": Decimal(420)}
_DEFAULT_REFUND_COMMISSION_CAP = Decimal("5.00")
_DEFAULT_FBA_FEE_PER_UNIT = Decimal("3.22")

# Components refunded against a charge of their own; the rest only against the line's total.
CHARGED_COMPONENTS = ("Principal", "Shipping", "Tax", "ShippingTax", "GiftWrap", "GiftWrapTax")
COMPONENT_TYPES = (*CHARGED_COMPONENTS, "RestockingFee", "ReturnShipping", "Goodwill", "Other")
TAX_COMPONENTS = ("Tax", "ShippingTax")
# The adjustment feed's component Type -> the financial events' ChargeType.
CHARGE_TYPES = {
    "Principal": "Principal",
    "Shipping": "ShippingCharge",
    "Tax": "Tax",
    "ShippingTax": "ShippingTax",
    "GiftWrap": "GiftWrap",
    "GiftWrapTax": "GiftWrapTax",
    "RestockingFee": "RestockingFee",
    "ReturnShipping": "ReturnShipping",
    "Goodwill": "Goodwill",
    "Other": "Other",
}
# The tax withheld by Amazon against each tax component.
WITHHELD_TYPES = {
    "Tax": "MarketplaceFacilitatorTax-Principal",
    "ShippingTax": "MarketplaceFacilitatorTax-Shipping",
}

Amounts = tuple[tuple[str, Decimal], ...]


def negate(amount: Decimal) -> Decimal:
    """``-amount`` without a negative zero (a JSON ``-0.0`` would read as a charge)."""
    return Decimal(0) - amount


def money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up, as prices are shown."""
    exponent = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def shipping_tax(item: SandboxItem, currency: str) -> Decimal:
    """The share of the line's tax that falls on shipping (taxed at the item's rate)."""
    base = item.unit_price * item.quantity + item.shipping_price
    if not base:
        return money(Decimal(0), currency)
    return money(item.tax * item.shipping_price / base, currency)


def charged(item: SandboxItem, currency: str) -> dict[str, Decimal]:
    """What the buyer paid for the line, by adjustment component type."""
    ship_tax = shipping_tax(item, currency)
    zero = money(Decimal(0), currency)
    return {
        "Principal": item.unit_price * item.quantity,
        "Shipping": item.shipping_price,
        "Tax": item.tax - ship_tax,
        "ShippingTax": ship_tax,
        "GiftWrap": zero,
        "GiftWrapTax": zero,
    }


def referral_rate(sku: str) -> Decimal:
    """The commission percentage of the item's category (``REFERRAL_RATES``, by SKU prefix)."""
    for prefix, rate in REFERRAL_RATES.items():
        if sku.upper().startswith(prefix):
            return rate
    return COMMISSION_RATE


def line_total(item: SandboxItem) -> Decimal:
    return item.unit_price * item.quantity + item.shipping_price + item.tax


def share(total: Decimal, quantity: int, before: int, units: int, currency: str) -> Decimal:
    """The part of a line's ``total`` that falls on ``units`` units after ``before`` others, so
    that the parts of every unit of the line add up to the total exactly."""
    if quantity <= 0:
        return money(Decimal(0), currency)
    upto = money(total * (before + units) / quantity, currency)
    return upto - money(total * before / quantity, currency)


def shipment_amounts(
    item: SandboxItem, currency: str, before: int, units: int, fulfilled_by: str
) -> tuple[Amounts, Amounts, Amounts]:
    """(ItemChargeList, ItemFeeList, taxes withheld) for ``units`` units shipped after
    ``before`` units of the line were shipped (and charged) already; seller's side signs."""
    paid = charged(item, currency)
    parts = {kind: share(paid[kind], item.quantity, before, units, currency) for kind in paid}
    charges = tuple((CHARGE_TYPES[kind], amount) for kind, amount in parts.items())
    fees: list[tuple[str, Decimal]] = [
        ("FixedClosingFee", money(Decimal(0), currency)),
        (
            "Commission",
            negate(money(parts["Principal"] * referral_rate(item.sku), currency)),
        ),
    ]
    if fulfilled_by == "AMAZON":
        per_unit = _FBA_FEE_PER_UNIT.get(currency, _DEFAULT_FBA_FEE_PER_UNIT)
        fees.append(("FBAPerUnitFulfillmentFee", negate(money(per_unit * units, currency))))
    withheld = tuple(
        (WITHHELD_TYPES[kind], negate(parts[kind]))
        for kind in TAX_COMPONENTS
        if item.tax and parts[kind]
    )
    return charges, tuple(fees), withheld


def refund_amounts(
    components: Amounts, currency: str, taxed: bool, sku: str = ""
) -> tuple[Amounts, Amounts, Amounts]:
    """(ItemChargeAdjustmentList, ItemFeeAdjustmentList, taxes withheld given back) for one
    adjusted item, from its components as the seller sent them (credits to the buyer positive,
    a restocking fee kept back negative): every amount changes sign on the seller's side."""
    charges = tuple((CHARGE_TYPES[kind], negate(amount)) for kind, amount in components)
    principal = sum((amount for kind, amount in components if kind == "Principal"), Decimal(0))
    commission = money(principal * referral_rate(sku), currency)
    cap = _REFUND_COMMISSION_CAP.get(currency, _DEFAULT_REFUND_COMMISSION_CAP)
    kept = min(money(commission * REFUND_COMMISSION_RATE, currency), cap)
    fees = (("Commission", commission), ("RefundCommission", negate(kept)))
    withheld = tuple(
        (WITHHELD_TYPES[kind], amount)
        for kind, amount in components
        if kind in WITHHELD_TYPES and taxed and amount
    )
    return charges, fees, withheld
