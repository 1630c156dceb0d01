"""The domain's ports implemented over the SP-API client."""

from infra.amazon.gateways.feeds import FeedsClient, SpApiFeeds
from infra.amazon.gateways.finances import FinancesClient, SpApiFinances
from infra.amazon.gateways.orders import (
    INCLUDED_DATA,
    SpApiOrdersSource,
)
from infra.amazon.gateways.shipments import (
    SpApiShipments,
    package_detail,
    ship_date,
)

__all__ = [
    "INCLUDED_DATA",
    "FeedsClient",
    "FinancesClient",
    "SpApiFeeds",
    "SpApiFinances",
    "SpApiOrdersSource",
    "SpApiShipments",
    "package_detail",
    "ship_date",
]
