"""A settlement's statement: every line classed and matched, the totals, and the check that the
lines add up to the deposit to the cent, in the settlement's own currency."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.payouts import (
    Known,
    LineKind,
    Match,
    SetAsideLine,
    SettlementLine,
    SettlementSummary,
    classify,
    reconcile,
)
from domain.payouts.reconcile import MARK_BATCH
from domain.shared import Money

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 15, tzinfo=UTC)


def _summary(total: str, currency: str = "USD") -> SettlementSummary:
    return SettlementSummary("S-1", START, END, END, Money(Decimal(total), currency))


def _line(
    n: int,
    transaction: str,
    amount_type: str,
    description: str,
    amount: str,
    *,
    order: str | None = "111-0000001-0000001",
    adjustment: str | None = None,
    currency: str = "USD",
) -> SettlementLine:
    return SettlementLine(
        settlement_id="S-1",
        line_no=n,
        transaction_type=transaction,
        amount_type=amount_type,
        amount_description=description,
        amount=Money(Decimal(amount), currency),
        order_id=order,
        merchant_adjustment_item_id=adjustment,
    )


@pytest.mark.parametrize(
    ("transaction", "amount_type", "description", "kind"),
    [
        ("Order", "ItemPrice", "Principal", LineKind.SALE),
        ("Order", "ItemPrice", "Tax", LineKind.SALE),
        ("Order", "Promotion", "Shipping", LineKind.SALE),
        ("Order", "ItemFees", "Commission", LineKind.FEE),
        ("Order", "ItemFees", "FBAPerUnitFulfillmentFee", LineKind.FEE),
        ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", LineKind.OTHER),
        ("Refund", "ItemPrice", "Principal", LineKind.REFUND),
        ("A-to-z Guarantee Refund", "ItemPrice", "Principal", LineKind.REFUND),
        ("Refund", "ItemFees", "RefundCommission", LineKind.FEE),
        ("ServiceFee", "other-transaction", "Subscription Fee", LineKind.FEE),
        ("other-transaction", "other-transaction", "Current Reserve Amount", LineKind.OTHER),
    ],
)
def test_each_line_is_a_sale_refund_fee_or_other(
    transaction: str, amount_type: str, description: str, kind: LineKind
) -> None:
    assert classify(_line(3, transaction, amount_type, description, "1.00")) is kind


def test_a_period_reconciles_to_the_cent_with_orders_refunds_and_fees() -> None:
    other = "111-0000002-0000002"
    lines = [
        _line(3, "Order", "ItemPrice", "Principal", "19.99"),
        _line(4, "Order", "ItemPrice", "Tax", "1.60"),
        _line(5, "Order", "ItemFees", "Commission", "-3.00"),
        _line(6, "Order", "ItemPrice", "Principal", "10.00", order=other),
        _line(7, "Order", "ItemFees", "Commission", "-1.50", order=other),
        _line(8, "Refund", "ItemPrice", "Principal", "-10.00", order=other, adjustment="R-7-1"),
        _line(9, "Refund", "ItemFees", "Commission", "1.20", order=other, adjustment="R-7-1"),
        _line(10, "ServiceFee", "other-transaction", "Subscription Fee", "-39.99", order=None),
    ]
    known = Known(frozenset({"111-0000001-0000001", other}), frozenset({"R-7-1"}))

    statement = reconcile(_summary("-21.70"), lines, known)

    assert statement.reconciled, statement.problems()
    assert statement.totals.sales == Money(Decimal("31.59"), "USD")
    assert statement.totals.refunds == Money(Decimal("-10.00"), "USD")
    assert statement.totals.fees == Money(Decimal("-43.29"), "USD")
    assert statement.difference == Money(Decimal("0.00"), "USD")
    first = statement.orders["111-0000001-0000001"]
    assert (first.charged.amount, first.fees.amount, first.net.amount) == (
        Decimal("21.59"),
        Decimal("-3.00"),
        Decimal("18.59"),
    )
    assert statement.orders[other].net == Money(Decimal("-0.30"), "USD")
    # The refund's commission given back is a fee of the order; its principal is our refund.
    assert statement.matched == {Match.ORDER: 6, Match.REFUND: 1, Match.ACCOUNT: 1}
    assert statement.unmatched == []


def test_a_cent_missing_is_found_and_said() -> None:
    lines = [_line(3, "Order", "ItemPrice", "Principal", "19.99")]
    statement = reconcile(_summary("20.00"), lines, Known(frozenset(), frozenset()))

    assert not statement.reconciled
    assert statement.difference == Money(Decimal("0.01"), "USD")
    assert statement.problems() == [
        "the lines add up to 19.99 USD, the deposit is 20.00 USD: 0.01 USD unexplained"
    ]


def test_unknown_orders_and_refunds_made_on_amazon_are_listed_with_why() -> None:
    lines = [
        _line(3, "Order", "ItemPrice", "Principal", "5.00", order="999-unknown"),
        _line(4, "Refund", "ItemPrice", "Principal", "-5.00", adjustment="SC-1"),
    ]
    known = Known(frozenset({"111-0000001-0000001"}), frozenset())

    statement = reconcile(_summary("0.00"), lines, known)

    assert statement.reconciled  # the amounts add up; what they are for is listed apart
    assert statement.unmatched == [(3, "order 999-unknown is not in the store")]
    assert statement.matched[Match.REFUND_FROM_AMAZON] == 1
    assert statement.matched[Match.NOTHING] == 1


def test_rows_set_aside_keep_it_from_reconciling_whatever_the_sums() -> None:
    lines: list[SettlementLine | SetAsideLine] = [
        _line(3, "Order", "ItemPrice", "Principal", "5.00"),
        SetAsideLine("S-1", 4, "amount: 'abc' is not a decimal number", "S-1\t...\tabc"),
    ]
    statement = reconcile(_summary("5.00"), lines, Known(frozenset(), frozenset()))

    assert not statement.reconciled
    assert statement.set_aside == 1
    assert "1 rows could not be read" in statement.problems()[0]


def test_a_line_in_another_currency_is_never_added_to_the_settlements() -> None:
    lines = [
        _line(3, "Order", "ItemPrice", "Principal", "100.00", currency="SEK"),
        _line(4, "Order", "ItemPrice", "Principal", "9.00", currency="EUR"),
    ]
    known = Known(frozenset({"111-0000001-0000001"}), frozenset())
    statement = reconcile(_summary("100.00", "SEK"), lines, known)

    assert statement.totals.sales == Money(Decimal("100.00"), "SEK")
    assert statement.unmatched == [(4, "in EUR, the settlement is in SEK")]
    assert statement.reconciled


def test_lines_are_read_once_as_they_come() -> None:
    def one_by_one() -> object:
        for n in range(3, 10_003):
            yield _line(n, "Order", "ItemPrice", "Principal", "0.01")

    statement = reconcile(_summary("100.00"), one_by_one(), Known(frozenset(), frozenset()))  # type: ignore[arg-type]

    assert statement.reconciled
    assert statement.lines == 10_000


def test_a_report_of_unknown_orders_is_marked_in_batches_and_nothing_kept_per_order() -> None:
    count = 2 * MARK_BATCH + 7
    lines = [
        _line(n, "Order", "ItemPrice", "Principal", "1.00", order=f"999-{n:07d}")
        for n in range(3, 3 + count)
    ]
    marked: list[list[tuple[int, str]]] = []

    statement = reconcile(
        _summary(f"{count}.00"),
        lines,
        Known(frozenset(), frozenset()),
        per_order=False,
        mark_unmatched=lambda marks: marked.append(list(marks)),
    )

    assert [len(batch) for batch in marked] == [MARK_BATCH, MARK_BATCH]
    assert len(statement.unmatched) == 7 and statement.unmatched_count == count
    every = [n for batch in [*marked, statement.unmatched] for n, _ in batch]
    assert every == list(range(3, 3 + count))  # each line once, in order
    assert statement.orders == {} and statement.reconciled
