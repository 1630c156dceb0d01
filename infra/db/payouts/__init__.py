"""The payout side of the store: Amazon's settlements with every line, saved batch by batch
(COPY, idempotent, resumable), their statements and events, and the views the outputs read."""

from infra.db.payouts.base import UnknownSettlement
from infra.db.payouts.store import SqlPayoutStore
from infra.db.payouts.views import (
    OrderInSettlement,
    SettlementStatement,
    SettlementView,
    UnmatchedLine,
)

__all__ = [
    "OrderInSettlement",
    "SettlementStatement",
    "SettlementView",
    "SqlPayoutStore",
    "UnknownSettlement",
    "UnmatchedLine",
]
