"""The fulfilment side of the store: intake, leases, outcomes, the sweeper, ship-by alerts."""

from infra.db.fulfilments.intake import KeyedIntake, SqlIntakeUnit
from infra.db.fulfilments.store import SqlFulfilmentStore
from infra.db.fulfilments.sweeper import DueFulfilment

__all__ = [
    "DueFulfilment",
    "KeyedIntake",
    "SqlFulfilmentStore",
    "SqlIntakeUnit",
]
