"""The refund side of the store: refunds and cancellations with their lines, their intake under
the order's lock (and the API's variant under an idempotency key), the operators' views and the
refused queue requests."""

from infra.db.refunds.intake import KeyedRefundIntake, SqlRefundIntakeUnit
from infra.db.refunds.store import SqlRefundStore

__all__ = ["KeyedRefundIntake", "SqlRefundIntakeUnit", "SqlRefundStore"]
