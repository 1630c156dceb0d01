"""The payout events as the platform receives them: ``payouts/available`` with the settlement's
totals in its own currency and whether it reconciled, ``payouts/unreconciled`` with why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from domain.payouts import (
    Known,
    PayoutAvailable,
    PayoutFigures,
    PayoutUnreconciled,
    SettlementLine,
    SettlementSummary,
    reconcile,
)
from domain.shared import Money
from infra.platform import payloads

START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 15, tzinfo=UTC)


def _figures(deposit: str) -> PayoutFigures:
    summary = SettlementSummary("S-1", START, END, END, Money(Decimal(deposit), "SEK"))
    lines = [
        SettlementLine("S-1", 3, "Order", "ItemPrice", "Principal", Money.parse("100", "SEK"), "O"),
        SettlementLine("S-1", 4, "Order", "ItemFees", "Commission", Money.parse("-15", "SEK"), "O"),
    ]
    return PayoutFigures.of(reconcile(summary, lines, Known(frozenset({"O"}), frozenset())))


def test_a_payout_says_its_totals_in_its_currency_and_that_it_reconciled() -> None:
    event = PayoutAvailable(7, "S-1", True, figures=_figures("85.00"))
    topic, body = payloads.encode(event)
    assert topic == "payouts/available"
    assert json.loads(body) == {
        "account_id": 7,
        "channel": "amazon",
        "buyer_notified_by": "amazon",
        "settlement_id": "S-1",
        "currency": "SEK",
        "period": {"start": START.isoformat(), "end": END.isoformat()},
        "deposit_date": END.isoformat(),
        "deposit": "85.00",
        "totals": {
            "sales": "100.00",
            "refunds": "0.00",
            "fees": "-15.00",
            "other": "0.00",
            "lines_total": "85.00",
        },
        "difference": "0.00",
        "lines": 2,
        "lines_set_aside": 0,
        "lines_unmatched": 0,
        "reconciled": True,
    }


def test_a_payout_that_does_not_add_up_says_why() -> None:
    figures = _figures("90.00")
    event = PayoutUnreconciled(7, "S-1", ("5.00 SEK unexplained",), figures=figures)
    topic, body = payloads.encode(event)
    data = json.loads(body)
    assert topic == "payouts/unreconciled"
    assert (data["reconciled"], data["difference"]) == (False, "5.00")
    assert data["problems"] == ["5.00 SEK unexplained"]
