"""Order ingestion: every Amazon order updated since the watermark, into the store, once."""

from domain.ingestion.cursor import Cursor
from domain.ingestion.ports import (
    FetchedOrder,
    IngestionStore,
    OrdersPage,
    OrdersSource,
    PageOutcome,
    PaginationExpired,
)
from domain.ingestion.sync import SyncReport, split_page, sync_orders

__all__ = [
    "Cursor",
    "FetchedOrder",
    "IngestionStore",
    "OrdersPage",
    "OrdersSource",
    "PageOutcome",
    "PaginationExpired",
    "SyncReport",
    "split_page",
    "sync_orders",
]
