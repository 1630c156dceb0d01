"""Order ingestion: every Amazon order updated since the watermark, into the store, once."""

from domain.ingestion.sync import (
    Cursor,
    FetchedOrder,
    IngestionStore,
    OrdersPage,
    OrdersSource,
    PageOutcome,
    PaginationExpired,
    SyncReport,
    split_page,
    sync_orders,
)

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
