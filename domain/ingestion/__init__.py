"""Order ingestion: every Amazon order updated since the watermark, into the store, once."""

from domain.ingestion.backfill import (
    OrderReports,
    ReportFailed,
    ReportUnavailable,
    backfill_from_reports,
    report_scope,
)
from domain.ingestion.cursor import Cursor
from domain.ingestion.overlap import SEARCH_VISIBILITY, WindowSeen, fitted_overlap
from domain.ingestion.ports import (
    FetchedOrder,
    IngestionStore,
    OrdersPage,
    OrdersSource,
    PageOutcome,
    PaginationExpired,
)
from domain.ingestion.schedule import SearchBudget, seconds_until_sync_due
from domain.ingestion.sync import SyncReport, split_page, sync_orders

__all__ = [
    "SEARCH_VISIBILITY",
    "Cursor",
    "FetchedOrder",
    "IngestionStore",
    "OrderReports",
    "OrdersPage",
    "OrdersSource",
    "PageOutcome",
    "PaginationExpired",
    "ReportFailed",
    "ReportUnavailable",
    "SearchBudget",
    "SyncReport",
    "WindowSeen",
    "backfill_from_reports",
    "fitted_overlap",
    "report_scope",
    "seconds_until_sync_due",
    "split_page",
    "sync_orders",
]
