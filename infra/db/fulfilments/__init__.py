"""The fulfilment side of the store: intake, leases, outcomes, the sweeper, ship-by alerts."""

from infra.db.fulfilments.intake import KeyedIntake, SqlIntakeUnit
from infra.db.fulfilments.store import SqlFulfilmentStore
from infra.db.fulfilments.sweeper import DueFulfilment
from infra.db.idempotency import KeyStatus, request_hash

__all__ = [
    "DueFulfilment",
    "KeyStatus",
    "KeyedIntake",
    "SqlFulfilmentStore",
    "SqlIntakeUnit",
    "request_hash",
]
