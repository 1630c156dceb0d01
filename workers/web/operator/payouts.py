"""What the operator page shows of Amazon's payouts: the latest settlements with their check to
the cent, one settlement's statement (totals, the lines that match nothing and why, the lines
set aside, what each order earned), and what Amazon holds and has not paid out yet. Read from
the store as ``amazon-channel payouts`` and ``GET /v1/payouts`` read it; every amount printed
with its currency, never converted."""

from __future__ import annotations

from dataclasses import dataclass

from domain.payouts import OrderMoney
from domain.shared import Money
from infra.db.accounts import list_accounts
from infra.db.payouts.views import SettlementView, UnmatchedLine
from infra.platform.payloads import amount_text
from workers import bootstrap
from workers.web.operator.reads import LISTED, when

ORDERS_LISTED = 500  # a statement's per-order table stops here (the CSV holds every line)


def money_text(money: Money) -> str:
    return f"{amount_text(money.amount, money.currency)} {money.currency}"


@dataclass(frozen=True, slots=True)
class PayoutRow:
    id: int
    account: str
    settlement_id: str
    period: str
    deposit: str
    deposit_date: str
    state: str  # fetching, reconciled or unreconciled
    difference: str  # lines total minus the deposit, once reconciled
    unmatched: int | None
    set_aside: int | None


@dataclass(frozen=True, slots=True)
class BalanceRow:
    account: str
    group_id: str
    since: str
    total: str


@dataclass(frozen=True, slots=True)
class TotalRow:
    label: str
    amount: str


@dataclass(frozen=True, slots=True)
class LineRow:
    line_no: int
    order_id: str
    kind: str
    amount: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderRow:
    amazon_order_id: str
    charged: str
    refunds: str
    fees: str
    other: str
    net: str


@dataclass(frozen=True, slots=True)
class Statement:
    payout: PayoutRow
    problems: tuple[str, ...]
    totals: list[TotalRow]
    unmatched: list[LineRow]
    set_aside: list[LineRow]
    orders: list[OrderRow]
    orders_total: int


def _names() -> dict[int, str]:
    return {
        a.id: a.name for a in list_accounts(bootstrap.container().sessions, include_removed=True)
    }


def _row(s: SettlementView, names: dict[int, str]) -> PayoutRow:
    return PayoutRow(
        id=s.id,
        account=names.get(s.account_id, str(s.account_id)),
        settlement_id=s.settlement_id,
        period=f"{s.period_start:%Y-%m-%d %H:%M} .. {s.period_end:%Y-%m-%d %H:%M} UTC",
        deposit=money_text(s.total),
        deposit_date=when(s.deposit_date) if s.deposit_date else "",
        state=s.state,
        difference=money_text(s.totals.difference) if s.totals is not None else "",
        unmatched=s.unmatched,
        set_aside=s.set_aside,
    )


def payouts() -> tuple[list[PayoutRow], list[BalanceRow]]:
    """The latest settlements, newest first, and each connected account's open balance."""
    c = bootstrap.container()
    names = _names()
    rows = [
        _row(s, names) for s in c.payout_store.list_settlements(limit=LISTED, newest_first=True)
    ]
    held = [
        BalanceRow(
            account=account.name,
            group_id=balance.group_id,
            since=when(balance.started_at) if balance.started_at else "",
            total=money_text(balance.total),
        )
        for account in list_accounts(c.sessions, connected_only=True)
        for balance in c.payout_store.open_balances(account.id)
    ]
    return rows, held


def unreconciled() -> int:
    """Settlements whose lines do not add up to the deposit (the overview's tile)."""
    store = bootstrap.container().payout_store
    return len(store.list_settlements(state="unreconciled", limit=LISTED))


def statement(payout_id: int) -> Statement | None:
    found = bootstrap.container().payout_store.statement(payout_id)
    if found is None:
        return None
    s = found.settlement
    totals = []
    if s.totals is not None:
        t = s.totals
        totals = [
            TotalRow(label, money_text(money))
            for label, money in (
                ("sales", t.sales), ("refunds", t.refunds), ("fees", t.fees),
                ("other", t.other), ("lines total", t.lines_total), ("deposit", s.total),
                ("difference", t.difference),
            )
        ]  # fmt: skip
    return Statement(
        payout=_row(s, _names()),
        problems=s.problems,
        totals=totals,
        unmatched=[_unmatched(u) for u in found.unmatched],
        set_aside=[LineRow(a.line_no, "", "", "", a.reason) for a in found.set_aside],
        orders=[_order(o) for o in found.orders[:ORDERS_LISTED]],
        orders_total=len(found.orders),
    )


def _unmatched(u: UnmatchedLine) -> LineRow:
    kind = f"{u.transaction_type} / {u.amount_type} / {u.amount_description}"
    return LineRow(u.line_no, u.order_id or "", kind, money_text(u.amount), u.reason)


def _order(o: OrderMoney) -> OrderRow:
    charged, refunds, fees, other, net = (
        money_text(m) for m in (o.charged, o.refunds, o.fees, o.other, o.net)
    )
    return OrderRow(o.amazon_order_id, charged, refunds, fees, other, net)
