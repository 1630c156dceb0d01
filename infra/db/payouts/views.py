"""The store's reads of payouts: the settlements (filtered, paged after a cursor), one with its
statement, and one order's money across settlements.

Per-order sums are computed at read time with one GROUP BY over the stored lines (each line
keeps its ``kind``, classed when saved), so nothing per order is written at reconcile time. Each
settlement's sums are in its own currency: a line in another currency is left out, as
``reconcile`` leaves it out (it is listed as unmatched instead), and no sum crosses two
settlements' currencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, text

from domain.payouts import LineKind, OrderMoney, SetAsideLine
from domain.refunds.amounts import tidy
from domain.shared import Money
from infra.db.payouts.base import A, L, S, StoreBase

MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Totals:
    """A reconciled settlement's totals, in its currency."""

    sales: Money
    refunds: Money
    fees: Money
    other: Money
    lines_total: Money
    difference: Money


@dataclass(frozen=True, slots=True)
class SettlementView:
    id: int
    account_id: int
    settlement_id: str
    report_id: str
    document_id: str
    period_start: datetime
    period_end: datetime
    deposit_date: datetime | None
    total: Money
    marketplace_name: str | None
    state: str
    lines_stored: int
    totals: Totals | None  # None until reconciled
    lines: int | None
    set_aside: int | None
    unmatched: int | None
    matched: dict[str, int]
    problems: tuple[str, ...]
    created_at: datetime
    reconciled_at: datetime | None

    @property
    def currency(self) -> str:
        return self.total.currency

    @property
    def reconciled(self) -> bool:
        return self.state == "reconciled"


@dataclass(frozen=True, slots=True)
class UnmatchedLine:
    line_no: int
    order_id: str | None
    transaction_type: str
    amount_type: str
    amount_description: str
    amount: Money
    reason: str


@dataclass(frozen=True, slots=True)
class SettlementStatement:
    settlement: SettlementView
    orders: tuple[OrderMoney, ...]  # by order id
    unmatched: tuple[UnmatchedLine, ...]  # in file order
    set_aside: tuple[SetAsideLine, ...]  # in file order


@dataclass(frozen=True, slots=True)
class OrderInSettlement:
    """What one order earned in one settlement (in that settlement's currency)."""

    settlement_row_id: int
    settlement_id: str
    period_end: datetime
    deposit_date: datetime | None
    state: str
    money: OrderMoney


def _money(amount: Decimal | None, currency: str) -> Money:
    """A stored amount with the currency's decimals (stored amounts keep four places)."""
    return Money(tidy(amount if amount is not None else Decimal(0), currency), currency)


def _view(row: Any) -> SettlementView:
    currency = row.currency
    totals = None
    if row.lines_total is not None:
        totals = Totals(
            *(
                _money(value, currency)
                for value in (
                    row.sales,
                    row.refunds,
                    row.fees,
                    row.other,
                    row.lines_total,
                    row.difference,
                )
            )
        )
    return SettlementView(
        id=row.id,
        account_id=row.account_id,
        settlement_id=row.settlement_id,
        report_id=row.report_id,
        document_id=row.document_id,
        period_start=row.period_start,
        period_end=row.period_end,
        deposit_date=row.deposit_date,
        total=_money(row.total, currency),
        marketplace_name=row.marketplace_name,
        state=row.state,
        lines_stored=row.lines_stored,
        totals=totals,
        lines=row.line_count,
        set_aside=row.set_aside,
        unmatched=row.unmatched,
        matched=dict(row.matched or {}),
        problems=tuple(row.problems or ()),
        created_at=row.created_at,
        reconciled_at=row.reconciled_at,
    )


# Per order and kind, the lines in the settlement's own currency.
_PER_ORDER = text(
    "SELECT l.settlement_row_id, l.order_id, l.kind, sum(l.amount) AS amount"
    " FROM settlement_lines l JOIN settlements s ON s.id = l.settlement_row_id"
    " WHERE l.settlement_row_id = ANY(:row_ids) AND l.order_id IS NOT NULL"
    " AND (CAST(:order_id AS text) IS NULL OR l.order_id = :order_id)"
    " AND l.currency = s.currency"
    " GROUP BY l.settlement_row_id, l.order_id, l.kind ORDER BY l.settlement_row_id, l.order_id"
)


def _per_order(
    conn: Connection, currencies: dict[int, str], order_id: str | None = None
) -> dict[int, dict[str, OrderMoney]]:
    """Each settlement's orders: charged, refunds, fees, other (so net)."""
    found: dict[int, dict[str, OrderMoney]] = {}
    rows = conn.execute(_PER_ORDER, {"row_ids": list(currencies), "order_id": order_id})
    for row in rows:
        currency = currencies[row.settlement_row_id]
        orders = found.setdefault(row.settlement_row_id, {})
        money = orders.get(row.order_id)
        if money is None:
            money = orders[row.order_id] = OrderMoney.zero(row.order_id, currency)
        money.add(LineKind(row.kind), _money(row.amount, currency))
    return found


class ViewsMixin(StoreBase):
    def list_settlements(
        self,
        *,
        account_id: int | None = None,
        period_from: datetime | None = None,
        period_to: datetime | None = None,
        state: str | None = None,
        after_id: int | None = None,
        limit: int = 50,
        newest_first: bool = False,
    ) -> list[SettlementView]:
        """Oldest first by id, after ``after_id`` (a cursor), at most ``limit`` (up to 500);
        ``newest_first`` turns the order round (the operator page's latest payouts).
        ``period_from``/``period_to``: the settlements whose period overlaps [from, to)."""
        order = S.c.id.desc() if newest_first else S.c.id
        query = select(S).order_by(order).limit(max(min(limit, MAX_LIMIT), 0))
        if account_id is not None:
            query = query.where(S.c.account_id == account_id)
        if period_from is not None:
            query = query.where(S.c.period_end > period_from)
        if period_to is not None:
            query = query.where(S.c.period_start < period_to)
        if state is not None:
            query = query.where(S.c.state == state)
        if after_id is not None:
            query = query.where(S.c.id > after_id)
        with self.engine.connect() as conn:
            return [_view(row) for row in conn.execute(query)]

    def settlement(self, row_id: int) -> SettlementView | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(S).where(S.c.id == row_id)).one_or_none()
        return _view(row) if row is not None else None

    def find_settlement(self, account_id: int, settlement_id: str) -> SettlementView | None:
        query = select(S).where(S.c.account_id == account_id, S.c.settlement_id == settlement_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        return _view(row) if row is not None else None

    def statement(self, row_id: int) -> SettlementStatement | None:
        """The settlement with its statement: per order, the lines matching nothing (with why)
        and the rows set aside (with why and as they were)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(S).where(S.c.id == row_id)).one_or_none()
            if row is None:
                return None
            settlement = _view(row)
            orders = _per_order(conn, {row_id: settlement.currency}).get(row_id, {})
            unmatched = conn.execute(
                select(L)
                .where(L.c.settlement_row_id == row_id, L.c.unmatched.is_not(None))
                .order_by(L.c.line_no)
            ).all()
            aside = conn.execute(
                select(A).where(A.c.settlement_row_id == row_id).order_by(A.c.line_no)
            ).all()
        return SettlementStatement(
            settlement=settlement,
            orders=tuple(orders[key] for key in sorted(orders)),
            unmatched=tuple(
                UnmatchedLine(
                    line_no=line.line_no,
                    order_id=line.order_id,
                    transaction_type=line.transaction_type,
                    amount_type=line.amount_type,
                    amount_description=line.amount_description,
                    amount=_money(line.amount, line.currency),
                    reason=line.unmatched,
                )
                for line in unmatched
            ),
            set_aside=tuple(
                SetAsideLine(settlement.settlement_id, r.line_no, r.reason, r.raw) for r in aside
            ),
        )

    def order_money(self, account_id: int, amazon_order_id: str) -> list[OrderInSettlement]:
        """The order's money in every settlement of the account that names it, oldest period
        first; each in its settlement's currency (never added across currencies)."""
        with self.engine.connect() as conn:
            settlements = conn.execute(
                select(S)
                .where(
                    S.c.account_id == account_id,
                    S.c.id.in_(
                        select(L.c.settlement_row_id)
                        .where(L.c.order_id == amazon_order_id)
                        .distinct()
                    ),
                )
                .order_by(S.c.period_end, S.c.id)
            ).all()
            currencies = {row.id: row.currency for row in settlements}
            sums = _per_order(conn, currencies, amazon_order_id)
        return [
            OrderInSettlement(
                settlement_row_id=row.id,
                settlement_id=row.settlement_id,
                period_end=row.period_end,
                deposit_date=row.deposit_date,
                state=row.state,
                money=sums.get(row.id, {}).get(
                    amazon_order_id, OrderMoney.zero(amazon_order_id, row.currency)
                ),
            )
            for row in settlements
        ]
