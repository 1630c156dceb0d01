"""Amazon's carrier codes, and Amazon's spelling of a carrier given in any case."""

from __future__ import annotations

# The common values of ``CarrierCode`` in Amazon's amzn-base.xsd (the list confirmShipment and
# the fulfilment feed accept). Amazon requires a carrier code in every marketplace; a carrier
# that is not listed goes as "Other" with its name in ``carrierName``.
OTHER_CARRIER = "Other"
AMAZON_CARRIER_CODES: tuple[str, ...] = (
    "USPS",
    "UPS",
    "UPSMI",
    "UPS Mail Innovations",
    "FedEx",
    "FedEx SmartPost",
    "DHL",
    "DHL eCommerce",
    "DHL Global Mail",
    "Fastway",
    "GLS",
    "GO!",
    "Hermes Logistik Gruppe",
    "Hermes",
    "Royal Mail",
    "Parcelforce",
    "City Link",
    "TNT",
    "Target",
    "SagawaExpress",
    "NipponExpress",
    "YamatoTransport",
    "DPD",
    "Canada Post",
    "Purolator",
    "Australia Post",
    "Correos",
    "Poste Italiane",
    "SDA",
    "Deutsche Post",
    "Chronopost",
    "Colissimo",
    "La Poste",
    "PostNL",
    "Bpost",
    "India Post",
    "Blue Dart",
    "BlueDart",
    "Delhivery",
    "DTDC",
    "OnTrac",
    "Lasership",
    "Newgistics",
    "OSM",
    "Streamlite",
    "Blue Package",
    "Yodel",
    "Aramex",
    OTHER_CARRIER,
)


def _carrier_key(value: str) -> str:
    return " ".join(value.split()).casefold()


_CARRIERS = {_carrier_key(code): code for code in AMAZON_CARRIER_CODES}


def amazon_carrier_code(value: str) -> str | None:
    """Amazon's spelling of a carrier code given in any case ("ups" -> "UPS"), or None."""
    return _CARRIERS.get(_carrier_key(value))
