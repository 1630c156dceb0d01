"""A settlement as Amazon's flat file states it: the summary row, then one line per amount.

Field names follow the file's columns (``settlement-id`` -> ``settlement_id``), so a reader can
hold a row beside its line. Every amount is ``Money`` in the settlement's currency; times are
aware UTC. A row that cannot be read is a ``SetAsideLine`` with its reason and raw text: it is
kept, counted and shown, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from domain.shared import Money

# The settlement report (V2 flat file, tab-separated). Listed with getReports, never requested:
# Amazon makes one per settlement period on its own.
SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


@dataclass(frozen=True, slots=True)
class ReportRef:
    """A settlement report as getReports lists it."""

    report_id: str
    document_id: str
    created_at: datetime
    data_start: datetime | None
    data_end: datetime | None
    marketplace_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SettlementSummary:
    """The file's first data row: the settlement as a whole."""

    settlement_id: str
    start: datetime
    end: datetime
    deposit_date: datetime | None
    total: Money  # what Amazon deposits (negative: what the seller owes)

    @property
    def currency(self) -> str:
        return self.total.currency


class LineKind(StrEnum):
    """What a line is for, in the statement's totals (``reconcile.classify``)."""

    SALE = "sale"  # what a buyer paid: principal, shipping, gift wrap, their taxes, promotions
    REFUND = "refund"  # what went back to a buyer (a refund's charges, negative)
    FEE = "fee"  # what Amazon kept: commission, FBA fees, service fees, refund commission
    OTHER = "other"  # reserves, transfers, adjustments, reimbursements, anything else


class Match(StrEnum):
    """What a line was matched to in the store (``reconcile``)."""

    ORDER = "order"  # an order of the store (a sale or an order's fee)
    REFUND = "refund"  # a refund the store sent (by its merchant-adjustment-item-id)
    REFUND_FROM_AMAZON = "refund_from_amazon"  # a refund recorded from Amazon (Seller Central)
    ACCOUNT = "account"  # an account-level line that names no order (a service fee, a reserve)
    NOTHING = "nothing"  # names an order or refund the store does not know: listed with why


class SettlementLine(NamedTuple):
    """One amount of the settlement (a data row after the summary).

    Immutable like the other values here, but a named tuple, not a frozen dataclass: a report
    makes one per row (hundreds of thousands), and a frozen dataclass's ``__init__`` sets each
    of its 19 fields through ``object.__setattr__``, about seven times the cost of a tuple's
    (``bench/payouts``: 0.5 s of 200,000 rows)."""

    settlement_id: str
    line_no: int  # the row's number in the file (the header is 1, the summary 2): stable
    transaction_type: str  # Order, Refund, ServiceFee, other-transaction, Chargeback Refund...
    amount_type: str  # ItemPrice, ItemFees, Promotion, ItemWithheldTax, other-transaction...
    amount_description: str  # Principal, Tax, Commission, FBAPerUnitFulfillmentFee...
    amount: Money
    order_id: str | None = None
    merchant_order_id: str | None = None
    adjustment_id: str | None = None
    shipment_id: str | None = None
    marketplace_name: str | None = None
    fulfillment_id: str | None = None  # AFN (Amazon) or MFN (merchant)
    posted_at: datetime | None = None
    order_item_code: str | None = None
    merchant_order_item_id: str | None = None
    merchant_adjustment_item_id: str | None = None  # ours, when our adjustment feed sent it
    sku: str | None = None
    quantity: int | None = None
    promotion_id: str | None = None  # a column only some files have


@dataclass(frozen=True, slots=True)
class SetAsideLine:
    """A row that could not be read: kept with why and as it was."""

    settlement_id: str
    line_no: int
    reason: str
    raw: str


@dataclass(frozen=True, slots=True)
class Known:
    """What the store knows of a settlement's orders and refunds (for ``reconcile.match``)."""

    orders: frozenset[str]  # the account's Amazon order ids among the settlement's
    our_adjustment_item_ids: frozenset[str]  # merchant-adjustment-item-ids our feeds sent


@dataclass(frozen=True, slots=True)
class OpenBalance:
    """What Amazon holds for the seller and has not paid out yet: an open financial event group
    (Finances' ``listFinancialEventGroups``), its total so far, in its own currency."""

    group_id: str
    started_at: datetime | None
    total: Money
