"""Currencies' minor units (ISO 4217): how many decimal places an amount of money may have, and
an amount written with them. A refund of 19.999 USD or of 1500.5 JPY is no amount a buyer can
get back, and the platform reads "19.90", never "19.9000" as the store's column keeps it."""

from __future__ import annotations

from decimal import Decimal

# ISO 4217's exponents other than 2 (every currency not listed has 2 decimal places).
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}
DEFAULT_MINOR_UNIT = 2


def minor_unit(currency: str | None) -> int:
    """The decimal places of ``currency``'s amounts (2 when it is unknown or not given)."""
    if currency is None:
        return DEFAULT_MINOR_UNIT
    return MINOR_UNITS.get(currency.upper(), DEFAULT_MINOR_UNIT)


def amount_text(amount: Decimal, currency: str | None) -> str:
    """``amount`` as text with its currency's decimal places ("19.90", "1500"); an amount with
    more places than that (a computed share) keeps them, never rounded away here."""
    exponent = Decimal(1).scaleb(-minor_unit(currency))
    if amount.is_finite() and amount.adjusted() < 28:
        rounded = amount.quantize(exponent)
        if rounded == amount:
            return f"{abs(rounded) if rounded.is_zero() else rounded:f}"
    return f"{amount.normalize():f}"
