"""A settlement's statement: every line matched and classed, the totals, and the check that the
lines add up to the deposit to the cent.

``reconcile`` reads the lines once, as they come (a report of 200,000 lines is never held
whole): it keeps the totals per kind, one small sum per order, and the lines that match nothing.
Nothing is rounded: Amazon's amounts are already in the currency's minor unit, and a sum of them
either equals the deposit or does not. Each settlement is in one currency; a line in another one
is not added (that would convert silently): it is listed as unmatched with why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from domain.payouts.model import (
    Known,
    LineKind,
    Match,
    SetAsideLine,
    SettlementLine,
    SettlementSummary,
)
from domain.shared import Money

_SALE_AMOUNT_TYPES = frozenset({"ItemPrice", "Promotion"})
_FEE_AMOUNT_TYPES = frozenset({"ItemFees", "ShipmentFees"})
_FEE_TRANSACTIONS = frozenset({"ServiceFee", "Subscription Fee", "FBA Inventory Fee"})


def classify(line: SettlementLine) -> LineKind:
    """Sale, refund, fee or other, from the line's transaction and amount types.

    A refund's own fee lines (the refund commission, the commission given back) are fees: what
    Amazon keeps or returns of its cut, not what the buyer got back.
    """
    return classify_types(line.transaction_type, line.amount_type)


def classify_types(transaction: str, amount_type: str) -> LineKind:
    """``classify`` from the two columns it reads (a pure function of them: callers that see
    hundreds of thousands of lines may cache it)."""
    if amount_type in _FEE_AMOUNT_TYPES or transaction in _FEE_TRANSACTIONS:
        return LineKind.FEE
    if "Refund" in transaction and amount_type in _SALE_AMOUNT_TYPES:
        return LineKind.REFUND
    if transaction == "Order" and amount_type in _SALE_AMOUNT_TYPES:
        return LineKind.SALE
    return LineKind.OTHER


def _zero(currency: str) -> Money:
    return Money(Decimal(0), currency)


@dataclass(slots=True)
class Totals:
    """The sums of one settlement's lines per kind, in its currency."""

    sales: Money
    refunds: Money
    fees: Money
    other: Money

    @classmethod
    def zero(cls, currency: str) -> Totals:
        z = _zero(currency)
        return cls(z, z, z, z)

    def add(self, kind: LineKind, amount: Money) -> None:
        if kind is LineKind.SALE:
            self.sales += amount
        elif kind is LineKind.REFUND:
            self.refunds += amount
        elif kind is LineKind.FEE:
            self.fees += amount
        else:
            self.other += amount

    @property
    def total(self) -> Money:
        return self.sales + self.refunds + self.fees + self.other


@dataclass(slots=True)
class OrderMoney:
    """What one order earned in one settlement: charged, refunded, kept by Amazon, net."""

    amazon_order_id: str
    charged: Money
    refunds: Money
    fees: Money
    other: Money

    @classmethod
    def zero(cls, amazon_order_id: str, currency: str) -> OrderMoney:
        z = _zero(currency)
        return cls(amazon_order_id, z, z, z, z)

    def add(self, kind: LineKind, amount: Money) -> None:
        if kind is LineKind.SALE:
            self.charged += amount
        elif kind is LineKind.REFUND:
            self.refunds += amount
        elif kind is LineKind.FEE:
            self.fees += amount
        else:
            self.other += amount

    @property
    def net(self) -> Money:
        return self.charged + self.refunds + self.fees + self.other


@dataclass(slots=True)
class Statement:
    """One settlement reconciled. ``reconciled``: the lines add up to the deposit to the cent,
    and no row was set aside (a row that could not be read may hold any amount)."""

    summary: SettlementSummary
    totals: Totals
    orders: dict[str, OrderMoney] = field(default_factory=dict)
    matched: dict[Match, int] = field(default_factory=dict)
    unmatched: list[tuple[int, str]] = field(default_factory=list)  # (line_no, why), not yet marked
    unmatched_count: int = 0  # every line that matched nothing, marked already or not
    set_aside: int = 0
    lines: int = 0

    @property
    def lines_total(self) -> Money:
        return self.totals.total

    @property
    def difference(self) -> Money:
        """The deposit minus what the lines add up to (zero when it reconciles)."""
        return Money(self.summary.total.amount - self.lines_total.amount, self.summary.currency)

    @property
    def reconciled(self) -> bool:
        return self.difference.amount == 0 and self.set_aside == 0

    def problems(self) -> list[str]:
        """Why it does not reconcile, in words (empty when it does)."""
        found: list[str] = []
        if self.difference.amount != 0:
            found.append(
                f"the lines add up to {self.lines_total}, the deposit is {self.summary.total}: "
                f"{self.difference} unexplained"
            )
        if self.set_aside:
            found.append(f"{self.set_aside} rows could not be read (set aside with their reason)")
        return found


def match(line: SettlementLine, kind: LineKind, known: Known) -> tuple[Match, str | None]:
    """What the store knows the line as, and why not when it knows nothing."""
    if line.order_id is None:
        return Match.ACCOUNT, None
    if line.order_id not in known.orders:
        return Match.NOTHING, f"order {line.order_id} is not in the store"
    if kind is not LineKind.REFUND:
        return Match.ORDER, None
    adjustment = line.merchant_adjustment_item_id
    if adjustment is not None and adjustment in known.our_adjustment_item_ids:
        return Match.REFUND, None
    # A refund of a known order that no adjustment feed of ours sent: made in Seller Central
    # (the refunds' Finances sweep records it; here it is shown for what it is).
    return Match.REFUND_FROM_AMAZON, "a refund made on Amazon (Seller Central), not by the store"


def reconcile(
    summary: SettlementSummary,
    lines: Iterable[SettlementLine | SetAsideLine],
    known: Known,
    *,
    per_order: bool = True,
    mark_unmatched: Callable[[list[tuple[int, str]]], None] | None = None,
) -> Statement:
    """The settlement's statement from its lines, read once. ``per_order=False`` keeps no sum
    per order (the worker's case: it stores the totals, and what each order earned is summed
    from the stored lines when asked), so its memory is the same for 20,000 lines as for
    200,000: a sum per order would grow with the report. ``mark_unmatched`` takes the lines that
    matched nothing every ``MARK_BATCH`` of them (the statement keeps only the rest), since an
    account whose orders came before the channel may see every line of a report unmatched."""
    currency = summary.currency
    statement = Statement(summary, Totals.zero(currency))
    for line in lines:
        if isinstance(line, SetAsideLine):
            statement.set_aside += 1
            continue
        statement.lines += 1
        if line.amount.currency != currency:
            other = f"in {line.amount.currency}, the settlement is in {currency}"
            _unmatched(statement, line.line_no, other, mark_unmatched)
            continue
        kind = classify(line)
        statement.totals.add(kind, line.amount)
        found, why = match(line, kind, known)
        statement.matched[found] = statement.matched.get(found, 0) + 1
        if why is not None and found is Match.NOTHING:
            _unmatched(statement, line.line_no, why, mark_unmatched)
        if per_order and line.order_id is not None:
            order = statement.orders.get(line.order_id)
            if order is None:
                order = statement.orders[line.order_id] = OrderMoney.zero(line.order_id, currency)
            order.add(kind, line.amount)
    return statement


MARK_BATCH = 5000


def _unmatched(
    statement: Statement,
    line_no: int,
    why: str,
    mark: Callable[[list[tuple[int, str]]], None] | None,
) -> None:
    statement.unmatched.append((line_no, why))
    statement.unmatched_count += 1
    if mark is not None and len(statement.unmatched) >= MARK_BATCH:
        mark(statement.unmatched)
        statement.unmatched = []
