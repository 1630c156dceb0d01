"""Payouts: Amazon's settlements, every line of them, reconciled to the cent against the store.

Amazon pays a seller once per settlement period (about every 14 days) and says what the payout
was made of in a settlement report (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``): a summary
row (period, deposit date, total, currency) and one row per amount (a sale's principal, its tax,
the commission, an FBA fee, a refund, a service fee...). The report is read at the edge into
``SettlementSummary`` and ``SettlementLine`` values (``model``); ``reconcile`` matches every line
to the store's orders and refunds and checks that the lines add up to the deposit; ``events``
tells the platform. Each settlement is in one currency: nothing here adds two currencies.
"""

from domain.payouts.events import (
    PayoutAvailable,
    PayoutEvent,
    PayoutFigures,
    PayoutUnreconciled,
)
from domain.payouts.fetch import FetchReport, fetch_report, fetch_settlements
from domain.payouts.model import (
    SETTLEMENT_REPORT_TYPE,
    Known,
    LineKind,
    Match,
    OpenBalance,
    ReportRef,
    SetAsideLine,
    SettlementLine,
    SettlementSummary,
)
from domain.payouts.ports import PayoutStore, SettlementReports
from domain.payouts.reconcile import (
    OrderMoney,
    Statement,
    Totals,
    classify,
    classify_types,
    reconcile,
)

__all__ = [
    "SETTLEMENT_REPORT_TYPE",
    "FetchReport",
    "Known",
    "LineKind",
    "Match",
    "OpenBalance",
    "OrderMoney",
    "PayoutAvailable",
    "PayoutEvent",
    "PayoutFigures",
    "PayoutStore",
    "PayoutUnreconciled",
    "ReportRef",
    "SetAsideLine",
    "SettlementLine",
    "SettlementReports",
    "SettlementSummary",
    "Statement",
    "Totals",
    "classify",
    "classify_types",
    "fetch_report",
    "fetch_settlements",
    "reconcile",
]
