"""What the store holds per account, in counts: orders, fulfilments, refunds.

``sandbox reset`` prints it after Amazon started afresh, so an operator sees what the store
still knows that the fresh sandbox does not (a fulfilment of one of those orders would fail
with ``NotFound``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from infra.db.tables import Fulfilment, Order, Refund, SellerAccount


@dataclass(frozen=True, slots=True)
class AccountCounts:
    account: str
    orders: int
    fulfilments: int
    refunds: int


def counts_per_account(sessions: sessionmaker[Session]) -> list[AccountCounts]:
    """Every account by name, with how many orders, fulfilments and refunds it holds."""
    with sessions() as session:
        names = {
            row.id: row.name
            for row in session.execute(select(SellerAccount.id, SellerAccount.name))
        }
        orders = _per_account(session, Order.account_id)
        fulfilments = _per_account(session, Fulfilment.account_id)
        refunds = _per_account(session, Refund.account_id)
    return [
        AccountCounts(
            account=name,
            orders=orders.get(account_id, 0),
            fulfilments=fulfilments.get(account_id, 0),
            refunds=refunds.get(account_id, 0),
        )
        for account_id, name in sorted(names.items(), key=lambda kv: kv[1])
    ]


def _per_account(session: Session, account_id: InstrumentedAttribute[int]) -> dict[int, int]:
    rows = session.execute(select(account_id, func.count()).group_by(account_id))
    return {int(account): int(n) for account, n in rows}
