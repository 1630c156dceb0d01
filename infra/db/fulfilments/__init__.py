"""The fulfilment side of the store: intake, leases, outcomes, the sweeper, ship-by alerts, keys."""

from infra.db.fulfilments.store import (
    KeyStatus,
    SqlFulfilmentStore,
    request_hash,
)

__all__ = [
    "KeyStatus",
    "SqlFulfilmentStore",
    "request_hash",
]
