"""Amazon's JSON -> the domain's values, one module per kind of record (``orders``,
``finances``)."""

from infra.amazon.translate.finances import (
    CHARGE_COMPONENTS,
    TranslatedRefund,
    UnmappedCharge,
    refund_to_domain,
)
from infra.amazon.translate.orders import TranslationError, fetched, parse_time, to_domain

__all__ = [
    "CHARGE_COMPONENTS",
    "TranslatedRefund",
    "TranslationError",
    "UnmappedCharge",
    "fetched",
    "parse_time",
    "refund_to_domain",
    "to_domain",
]
