"""The ingestion side of the store: orders upserted by page with their events, the cursor."""

from domain.orders.events import order_key as aggregate_key
from infra.db.ingestion.rows import order_row
from infra.db.ingestion.store import SqlIngestionStore, from_report

__all__ = [
    "SqlIngestionStore",
    "aggregate_key",
    "from_report",
    "order_row",
]
