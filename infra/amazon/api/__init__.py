"""SP-API, one module per API family, each a small class over the one transport (``http``).

A family validates its arguments by Amazon's rules before spending a call, builds the request
from Amazon's model (the operation key), and reads the answer into ``infra.amazon.schemas``.
Method names follow Amazon's operation ids (``getOrder`` -> ``get_order``).
"""

from infra.amazon.api.documents import DOWNLOAD_OPERATION, DocumentsApi
from infra.amazon.api.feeds import UPLOAD_OPERATION, FeedsApi, FeedsPage
from infra.amazon.api.finances import FinancesApi
from infra.amazon.api.orders import OrdersApi
from infra.amazon.api.orders_v0 import OrdersV0Api
from infra.amazon.api.reports import ReportsApi

__all__ = [
    "DOWNLOAD_OPERATION",
    "UPLOAD_OPERATION",
    "DocumentsApi",
    "FeedsApi",
    "FeedsPage",
    "FinancesApi",
    "OrdersApi",
    "OrdersV0Api",
    "ReportsApi",
]
