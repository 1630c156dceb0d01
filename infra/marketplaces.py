"""Amazon's marketplaces, as its published list of marketplace ids gives them: the id, the
storefront's name, the country, the selling region whose endpoint serves it, the currency its
orders are in and the marketplace's local time zone.

One list for both sides: the store checks a new account's marketplaces against it (one that
does not exist, or that another region serves, is refused) and the sandbox draws its orders
from it, so the sandbox knows every marketplace a real account can hold. It is plain data with
no import of ours (the sandbox may import it; it imports nothing of the store).

Regions are Amazon's three selling regions by their short names (``NA``, ``EU``, ``FE``), the
values of ``infra.settings.Region`` (which this module cannot import: the sandbox must not see
the settings).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Marketplace:
    marketplace_id: str
    name: str  # the storefront: Orders v2026-01-01 marketplaceName and v0 SalesChannel
    country_code: str  # ISO 3166-1 alpha-2 (GB for the United Kingdom; Amazon's table says UK)
    region: str  # NA, EU or FE: the SP-API endpoint that serves it
    currency: str  # ISO 4217: what its orders are priced in
    timezone: str  # IANA zone of the marketplace's local day


MARKETPLACES: dict[str, Marketplace] = {
    m.marketplace_id: m
    for m in (
        # North America (sellingpartnerapi-na)
        Marketplace("A2EUQ1WTGCTBG2", "Amazon.ca", "CA", "NA", "CAD", "America/Toronto"),
        Marketplace("ATVPDKIKX0DER", "Amazon.com", "US", "NA", "USD", "America/Los_Angeles"),
        Marketplace("A1AM78C64UM0Y8", "Amazon.com.mx", "MX", "NA", "MXN", "America/Mexico_City"),
        Marketplace("A2Q3Y263D00KWC", "Amazon.com.br", "BR", "NA", "BRL", "America/Sao_Paulo"),
        # Europe, Middle East, Africa and India (sellingpartnerapi-eu)
        Marketplace("A28R8C7NBKEWEA", "Amazon.ie", "IE", "EU", "EUR", "Europe/Dublin"),
        Marketplace("A1RKKUPIHCS9HS", "Amazon.es", "ES", "EU", "EUR", "Europe/Madrid"),
        Marketplace("A1F83G8C2ARO7P", "Amazon.co.uk", "GB", "EU", "GBP", "Europe/London"),
        Marketplace("A13V1IB3VIYZZH", "Amazon.fr", "FR", "EU", "EUR", "Europe/Paris"),
        Marketplace("AMEN7PMS3EDWL", "Amazon.com.be", "BE", "EU", "EUR", "Europe/Brussels"),
        Marketplace("A1805IZSGTT6HS", "Amazon.nl", "NL", "EU", "EUR", "Europe/Amsterdam"),
        Marketplace("A1PA6795UKMFR9", "Amazon.de", "DE", "EU", "EUR", "Europe/Berlin"),
        Marketplace("APJ6JRA9NG5V4", "Amazon.it", "IT", "EU", "EUR", "Europe/Rome"),
        Marketplace("A2NODRKZP88ZB9", "Amazon.se", "SE", "EU", "SEK", "Europe/Stockholm"),
        Marketplace("AE08WJ6YKNBMC", "Amazon.co.za", "ZA", "EU", "ZAR", "Africa/Johannesburg"),
        Marketplace("A1C3SOZRARQ6R3", "Amazon.pl", "PL", "EU", "PLN", "Europe/Warsaw"),
        Marketplace("ARBP9OOSHTCHU", "Amazon.eg", "EG", "EU", "EGP", "Africa/Cairo"),
        Marketplace("A33AVAJ2PDY3EV", "Amazon.com.tr", "TR", "EU", "TRY", "Europe/Istanbul"),
        Marketplace("A17E79C6D8DWNP", "Amazon.sa", "SA", "EU", "SAR", "Asia/Riyadh"),
        Marketplace("A2VIGQ35RCS4UG", "Amazon.ae", "AE", "EU", "AED", "Asia/Dubai"),
        Marketplace("A21TJRUUN4KGV", "Amazon.in", "IN", "EU", "INR", "Asia/Kolkata"),
        # Far East (sellingpartnerapi-fe)
        Marketplace("A19VAU5U5O7RUS", "Amazon.sg", "SG", "FE", "SGD", "Asia/Singapore"),
        Marketplace("A39IBJ37TRP1C6", "Amazon.com.au", "AU", "FE", "AUD", "Australia/Sydney"),
        Marketplace("A1VC38T7YXB528", "Amazon.co.jp", "JP", "FE", "JPY", "Asia/Tokyo"),
    )
}

# What a person may type for a marketplace besides its id: the country code (and UK, as
# Amazon's own table writes the United Kingdom).
_BY_COUNTRY: dict[str, str] = {m.country_code: m.marketplace_id for m in MARKETPLACES.values()}
_BY_COUNTRY["UK"] = "A1F83G8C2ARO7P"


def marketplace_id_for(given: str) -> str | None:
    """The marketplace id ``given`` names (an id, or a country code such as ``SE``), or None."""
    text = given.strip()
    if text in MARKETPLACES:
        return text
    return _BY_COUNTRY.get(text.upper())


def marketplace_problem(given: str, region: str | None) -> str | None:
    """Why ``given`` is not a marketplace of ``region`` (None: it is). A region that is none
    of Amazon's (the sandbox) accepts every marketplace that exists."""
    marketplace_id = marketplace_id_for(given)
    if marketplace_id is None:
        return f"{given!r} is not one of Amazon's marketplaces"
    found = MARKETPLACES[marketplace_id]
    if region in REGIONS and found.region != region:
        return (
            f"{given} ({found.name}) is served by the {found.region} region, not {region}; "
            f"{region} serves {', '.join(m.country_code for m in in_region(region))}"
        )
    return None


def in_region(region: str) -> list[Marketplace]:
    return [m for m in MARKETPLACES.values() if m.region == region]


REGIONS: tuple[str, ...] = ("NA", "EU", "FE")
