"""What Amazon holds for an account and has not paid out yet: the open financial event groups a
fetch read, replaced as a whole each time (Amazon's answer now is the truth)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select

from domain.payouts import OpenBalance
from domain.shared import Money
from infra.db.payouts.base import StoreBase
from infra.db.tables import OpenBalance as OpenBalanceRow

B = OpenBalanceRow.metadata.tables[OpenBalanceRow.__tablename__]


class BalancesMixin(StoreBase):
    def replace_open_balances(self, account_id: int, balances: Sequence[OpenBalance]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(B).where(B.c.account_id == account_id))
            if balances:
                conn.execute(
                    insert(B),
                    [
                        {
                            "account_id": account_id,
                            "group_id": b.group_id,
                            "started_at": b.started_at,
                            "amount": b.total.amount,
                            "currency": b.total.currency,
                        }
                        for b in balances
                    ],
                )

    def open_balances(self, account_id: int) -> list[OpenBalance]:
        """As the last fetch read them, oldest group first."""
        query = select(B).where(B.c.account_id == account_id).order_by(B.c.started_at)
        with self.engine.connect() as conn:
            return [
                OpenBalance(row.group_id, row.started_at, Money(row.amount, row.currency))
                for row in conn.execute(query)
            ]
