"""The ingestion side of the store: orders upserted by page with their events, the cursor."""

from infra.db.ingestion.store import (
    SqlIngestionStore,
    aggregate_key,
    order_row,
)

__all__ = [
    "SqlIngestionStore",
    "aggregate_key",
    "order_row",
]
