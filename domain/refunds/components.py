"""The parts of a line a refund gives back, named as the platform spells them and as Amazon's
adjustment feed does, and Amazon's two reason lists."""

from __future__ import annotations

from enum import StrEnum


class Component(StrEnum):
    """Values are Amazon's ``ItemPriceAdjustments/Component/Type``."""

    ITEM_PRICE = "Principal"
    SHIPPING = "Shipping"
    TAX = "Tax"
    SHIPPING_TAX = "ShippingTax"
    GIFT_WRAP = "GiftWrap"
    GIFT_WRAP_TAX = "GiftWrapTax"
    GOODWILL = "Goodwill"
    RESTOCKING_FEE = "RestockingFee"
    RETURN_SHIPPING = "ReturnShipping"


# The request's field for each component (HTTP, queue and CLI spell them alike).
FIELD_NAMES: dict[str, Component] = {
    "item_price": Component.ITEM_PRICE,
    "shipping": Component.SHIPPING,
    "tax": Component.TAX,
    "shipping_tax": Component.SHIPPING_TAX,
    "gift_wrap": Component.GIFT_WRAP,
    "gift_wrap_tax": Component.GIFT_WRAP_TAX,
    "goodwill": Component.GOODWILL,
    "restocking_fee": Component.RESTOCKING_FEE,
    "return_shipping": Component.RETURN_SHIPPING,
}
FIELD_OF: dict[Component, str] = {component: name for name, component in FIELD_NAMES.items()}

# Components refunded against a charge of their own: never more than the order charged for it,
# less what was refunded before (from the store and on Amazon).
CHARGED: tuple[Component, ...] = (
    Component.ITEM_PRICE,
    Component.SHIPPING,
    Component.TAX,
    Component.SHIPPING_TAX,
    Component.GIFT_WRAP,
    Component.GIFT_WRAP_TAX,
)
# A restocking fee is kept back from the refund: the request gives it as a positive amount, the
# feed sends it negative, and the refund's total is the credits less the fee.
KEPT_BACK: frozenset[Component] = frozenset({Component.RESTOCKING_FEE})

# Amazon's AdjustmentReason values (POST_PAYMENT_ADJUSTMENT_DATA).
ADJUSTMENT_REASONS: tuple[str, ...] = (
    "NoInventory",
    "CustomerReturn",
    "GeneralAdjustment",
    "CouldNotShip",
    "DifferentItem",
    "Abandoned",
    "CustomerCancel",
    "PriceError",
    "ProductOutofStock",
    "CustomerAddressIncorrect",
    "Exchange",
    "Other",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "TransactionRecord",
    "Undeliverable",
    "RefusedDelivery",
)
# The platform's refund reasons and the AdjustmentReason each becomes; Amazon's own spelling is
# taken as it is.
REFUND_REASONS: dict[str, str] = {
    "customer_return": "CustomerReturn",
    "no_inventory": "NoInventory",
    "could_not_ship": "CouldNotShip",
    "different_item": "DifferentItem",
    "customer_cancel": "CustomerCancel",
    "price_error": "PriceError",
    "out_of_stock": "ProductOutofStock",
    "address_incorrect": "CustomerAddressIncorrect",
    "exchange": "Exchange",
    "undeliverable": "Undeliverable",
    "refused_delivery": "RefusedDelivery",
    "goodwill": "GeneralAdjustment",
    "general_adjustment": "GeneralAdjustment",
    "other": "Other",
}

# Amazon's CancelReason values (POST_ORDER_ACKNOWLEDGEMENT_DATA).
CANCEL_REASONS: tuple[str, ...] = (
    "NoInventory",
    "ShippingAddressUndeliverable",
    "CustomerExchange",
    "BuyerCanceled",
    "GeneralAdjustment",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "CustomerReturn",
    "MerchandiseNotReceived",
)
CANCEL_REASON_NAMES: dict[str, str] = {
    "no_inventory": "NoInventory",
    "address_undeliverable": "ShippingAddressUndeliverable",
    "customer_exchange": "CustomerExchange",
    "buyer_canceled": "BuyerCanceled",
    "buyer_cancelled": "BuyerCanceled",
    "general_adjustment": "GeneralAdjustment",
    "customer_return": "CustomerReturn",
    "merchandise_not_received": "MerchandiseNotReceived",
}


def adjustment_reason(given: str) -> str | None:
    """Amazon's AdjustmentReason for the platform's reason (or Amazon's own), None if unknown."""
    return given if given in ADJUSTMENT_REASONS else REFUND_REASONS.get(given)


def cancel_reason(given: str) -> str | None:
    """Amazon's CancelReason for the platform's reason (or Amazon's own), None if unknown."""
    return given if given in CANCEL_REASONS else CANCEL_REASON_NAMES.get(given)
