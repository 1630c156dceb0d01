"""What the platform hears about payouts: a settlement arrived (with its totals and whether it
reconciled), and, when it does not add up, a second event that says why.

Both carry the statement's ``PayoutFigures`` (small, fixed in size: never the lines), so the
payload is built from the event alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.payouts.reconcile import Statement
from domain.shared import Money
from domain.shared.events import Event


@dataclass(frozen=True, slots=True)
class PayoutFigures:
    """A statement's totals, in the settlement's currency."""

    period_start: datetime
    period_end: datetime
    deposit_date: datetime | None
    deposit: Money
    sales: Money
    refunds: Money
    fees: Money
    other: Money
    lines_total: Money
    difference: Money
    lines: int
    set_aside: int
    unmatched: int

    @classmethod
    def of(cls, statement: Statement) -> PayoutFigures:
        summary, totals = statement.summary, statement.totals
        return cls(
            period_start=summary.start,
            period_end=summary.end,
            deposit_date=summary.deposit_date,
            deposit=summary.total,
            sales=totals.sales,
            refunds=totals.refunds,
            fees=totals.fees,
            other=totals.other,
            lines_total=statement.lines_total,
            difference=statement.difference,
            lines=statement.lines,
            set_aside=statement.set_aside,
            unmatched=statement.unmatched_count,
        )


@dataclass(frozen=True, slots=True)
class PayoutEvent(Event):
    account_id: int
    settlement_id: str
    figures: PayoutFigures | None = field(default=None, kw_only=True)

    @property
    def aggregate_key(self) -> str:
        return f"payout:{self.account_id}:{self.settlement_id}"


@dataclass(frozen=True, slots=True)
class PayoutAvailable(PayoutEvent):
    """``payouts/available``: the settlement stored and reconciled (or not), with its totals."""

    reconciled: bool


@dataclass(frozen=True, slots=True)
class PayoutUnreconciled(PayoutEvent):
    """``payouts/unreconciled``: the lines do not add up to the deposit, or rows were set
    aside."""

    problems: tuple[str, ...]
