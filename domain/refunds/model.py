"""The refund (and the cancellation, a refund's sibling that also stops units from shipping) as
the store keeps it, its state machine, and what Amazon's Finances say was refunded.

One table of "refunds" holds both kinds (``RefundKind``): both go to Amazon through the order
feeds and share every state. States (``RefundState``)::

    held ──(account reconnected; shipped orders need approval)──▶ accepted
      │                                                              │
      └── awaiting_approval ──approve──▶ accepted                    │ batched into a feed
                                                                     ▼
    accepted ◀── retryable error / feed not created ── in_feed ──▶ confirmed
       ▲                                                  │
       └────────── operator retry ── failed ◀─────────────┘ (Amazon's code and text, or
                                                            already refunded on Amazon)

``source`` is ``store`` for what the platform asked, ``amazon`` for a refund found in Amazon's
Finances that the store did not make (recorded straight as confirmed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.refunds.components import KEPT_BACK, Component
from domain.shared import Money


class RefundKind(StrEnum):
    REFUND = "refund"
    CANCELLATION = "cancellation"


class RefundState(StrEnum):
    HELD = "held"  # the account is disconnected: kept, nothing sent
    AWAITING_APPROVAL = "awaiting_approval"  # reconnected: the order shipped, a person decides
    ACCEPTED = "accepted"
    IN_FEED = "in_feed"  # its message is in a submission that has not been reported on yet
    CONFIRMED = "confirmed"
    FAILED = "failed"


TRANSITIONS: Mapping[RefundState, frozenset[RefundState]] = {
    RefundState.HELD: frozenset({RefundState.ACCEPTED, RefundState.AWAITING_APPROVAL}),
    RefundState.AWAITING_APPROVAL: frozenset({RefundState.ACCEPTED, RefundState.FAILED}),
    RefundState.ACCEPTED: frozenset({RefundState.IN_FEED, RefundState.FAILED, RefundState.HELD}),
    RefundState.IN_FEED: frozenset(
        {RefundState.CONFIRMED, RefundState.FAILED, RefundState.ACCEPTED}
    ),
    RefundState.FAILED: frozenset({RefundState.ACCEPTED}),
    RefundState.CONFIRMED: frozenset(),
}


class RefundSource(StrEnum):
    STORE = "store"
    AMAZON = "amazon"


@dataclass(frozen=True, slots=True)
class RefundLine:
    """One refunded line. ``id`` is sent as ``MerchantAdjustmentItemID``; ``amounts`` are what
    the buyer gets back per component (a restocking fee as the positive amount kept back)."""

    id: int
    order_item_id: str
    sku: str | None
    amounts: tuple[tuple[Component, Money], ...]
    quantity: int | None = None  # the units refunded or cancelled, when known

    @property
    def total(self) -> Money:
        """Credits less what is kept back."""
        currency = self.amounts[0][1].currency if self.amounts else "USD"
        net = Decimal(0)
        for component, money in self.amounts:
            net += -money.amount if component in KEPT_BACK else money.amount
        return Money(net, currency)


@dataclass(frozen=True, slots=True)
class Refund:
    id: int
    kind: RefundKind
    source: RefundSource
    account_id: int
    amazon_order_id: str
    marketplace_id: str
    platform_id: str | None  # platform_refund_id / platform_cancellation_id (None: from Amazon)
    reason: str  # Amazon's AdjustmentReason or CancelReason
    currency: str
    state: RefundState
    lines: tuple[RefundLine, ...]
    fingerprint: str
    created_at: datetime
    whole_order: bool = False  # a cancellation of the whole order (the acknowledgement feed)
    submission_id: int | None = None
    attempts: int = 0
    failure_code: str | None = None
    failure_reason: str | None = None
    confirmed_at: datetime | None = None
    posted_at: datetime | None = None  # from Amazon: when Finances posted it

    @property
    def total(self) -> Money:
        net = Decimal(0)
        for line in self.lines:
            net += line.total.amount
        return Money(net, self.currency)


@dataclass(frozen=True, slots=True)
class Accepted:
    refund: Refund
    created: bool  # False: the same request was accepted before (a replay)


# --- what Amazon's Finances say --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AmazonRefundItem:
    order_item_id: str | None
    sku: str | None
    # Amazon's OrderAdjustmentItemId: with the order and posted date, one refund event's key.
    adjustment_item_id: str | None
    # What went back to the buyer, per component, as positive amounts (Finances posts them
    # negative from the seller's side).
    amounts: tuple[tuple[Component, Money], ...]


@dataclass(frozen=True, slots=True)
class AmazonRefund:
    """One ``RefundEventList`` entry of Finances v0."""

    amazon_order_id: str
    posted_at: datetime
    marketplace_name: str | None
    items: tuple[AmazonRefundItem, ...]

    @property
    def key(self) -> str:
        """Stable across reads: the order, the posted time and Amazon's adjustment item ids."""
        ids = ",".join(sorted(item.adjustment_item_id or "" for item in self.items))
        return f"{self.amazon_order_id}|{self.posted_at.isoformat()}|{ids}"
