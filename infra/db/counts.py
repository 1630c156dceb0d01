"""What the store holds per account, in counts: orders, fulfilments, refunds.

``sandbox reset`` prints it after Amazon started afresh, so an operator sees what the store
still knows that the fresh sandbox does not (a fulfilment of one of those orders would fail
with ``NotFound``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.db.tables import Fulfilment, Order, Refund, SellerAccount


@dataclass(frozen=True, slots=True)
class AccountCounts:
    account: str
    orders: int
    fulfilments: int
    refunds: int


def counts_per_account(sessions: sessionmaker[Session]) -> list[AccountCounts]:
    """Every account by name, with how many orders, fulfilments and refunds it holds."""
    per_table = {}
    with sessions() as session:
        names = dict(session.execute(select(SellerAccount.id, SellerAccount.name)).tuples().all())
        for table in (Order, Fulfilment, Refund):
            rows = session.execute(
                select(table.account_id, func.count()).group_by(table.account_id)
            ).tuples()
            per_table[table] = dict(rows.all())
    return [
        AccountCounts(
            account=name,
            orders=per_table[Order].get(account_id, 0),
            fulfilments=per_table[Fulfilment].get(account_id, 0),
            refunds=per_table[Refund].get(account_id, 0),
        )
        for account_id, name in sorted(names.items(), key=lambda kv: kv[1])
    ]
