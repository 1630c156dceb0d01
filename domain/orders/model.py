"""An Amazon order as the store understands it: what a sync hands the store after translation
at the edge, and what a fulfilment is checked against."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.shared import Money


class OrderStatus(StrEnum):
    PENDING_AVAILABILITY = "PENDING_AVAILABILITY"
    PENDING = "PENDING"
    UNSHIPPED = "UNSHIPPED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"
    UNFULFILLABLE = "UNFULFILLABLE"


class FulfilledBy(StrEnum):
    MERCHANT = "MERCHANT"  # MFN: the seller ships; the channel confirms shipments
    AMAZON = "AMAZON"  # AFN / FBA: stored read-only, never fulfilled here


# The prefix of a line id made up for an order taken from an order report, which names no
# order item ids: Amazon's ids are digits, so no real id ever starts with it.
REPORT_ITEM_PREFIX = "R:"
# Why a fulfilment, refund or cancellation of such an order is refused while its items are the
# report's: Amazon would be sent an order item id it never gave.
STAND_IN_ITEMS = (
    "the order came from an order report (backfill --via reports), which names no Amazon "
    "order item ids, and its items could not be read from Amazon yet (getOrder): nothing is "
    "sent to Amazon with a made-up item id; try again in a minute"
)


def has_stand_in_items(order_item_ids: Iterable[str]) -> bool:
    """Whether any of these ids is one made up for an order report's line."""
    return any(i.startswith(REPORT_ITEM_PREFIX) for i in order_item_ids)


OPEN_STATUSES = frozenset({OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED})
PRICED_STATUSES = frozenset(
    set(OrderStatus) - {OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY}
)


@dataclass(frozen=True, slots=True)
class LineCharges:
    """What the buyer paid for one line, per part, in the order's currency (totals for the
    line, not per unit). What a refund may give back is checked against these."""

    currency: str
    principal: Decimal  # the item price times the quantity
    shipping: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)  # the tax on the item price
    shipping_tax: Decimal = Decimal(0)
    gift_wrap: Decimal = Decimal(0)
    gift_wrap_tax: Decimal = Decimal(0)

    @property
    def total(self) -> Money:
        parts = (self.principal, self.shipping, self.tax, self.shipping_tax)
        wrapped = (self.gift_wrap, self.gift_wrap_tax)
        return Money(sum((*parts, *wrapped), Decimal(0)), self.currency)


@dataclass(frozen=True, slots=True)
class OrderLine:
    order_item_id: str
    quantity_ordered: int
    quantity_shipped: int
    sku: str | None = None
    asin: str | None = None
    title: str | None = None
    unit_price: Money | None = None
    cancel_requested: bool = False
    cancel_reason: str | None = None
    charges: LineCharges | None = None  # None while the order is pending (nothing charged)

    @property
    def quantity_unshipped(self) -> int:
        return max(self.quantity_ordered - self.quantity_shipped, 0)


@dataclass(frozen=True, slots=True)
class AmazonOrder:
    amazon_order_id: str
    marketplace_id: str
    status: OrderStatus
    fulfilled_by: FulfilledBy
    purchased_at: datetime
    last_updated_at: datetime
    lines: tuple[OrderLine, ...]
    total: Money | None = None
    ship_by_earliest: datetime | None = None
    ship_by_latest: datetime | None = None
    deliver_by_earliest: datetime | None = None
    deliver_by_latest: datetime | None = None
    service_level: str | None = None
    is_business: bool = False
    is_prime: bool = False
    is_replacement: bool = False
    replaced_order_id: str | None = None
    has_buyer_data: bool = True
    programs: tuple[str, ...] = field(default_factory=tuple)
    # Taken from an order report (a backfill): it lacks what the report's columns lack, item
    # ids first (its lines' ids are provisional, ``REPORT_ITEM_PREFIX``), and never replaces a
    # copy from the Orders API; a copy from the Orders API always replaces it.
    from_report: bool = False

    @property
    def currency(self) -> str | None:
        if self.total is not None:
            return self.total.currency
        for line in self.lines:
            if line.unit_price is not None:
                return line.unit_price.currency
        return None

    @property
    def read_only(self) -> bool:
        """Amazon-fulfilled orders are imported for reports and payouts only (rule 5)."""
        return self.fulfilled_by is FulfilledBy.AMAZON

    @property
    def buyer_cancel_requested(self) -> bool:
        return any(line.cancel_requested for line in self.lines)

    @property
    def buyer_cancel_reason(self) -> str | None:
        reasons = [line.cancel_reason for line in self.lines if line.cancel_requested]
        return next((r for r in reasons if r), None)

    def content_hash(self) -> str:
        """A fingerprint of everything we store: equal hashes mean nothing changed.

        The repr of frozen dataclasses of str, int, bool, Decimal, datetime and enums is
        deterministic, and ten times cheaper than walking the order with ``asdict``.
        ``from_report`` is left out so that the fingerprints of orders stored before it existed
        stay what they were (a report's copy differs anyway: its line ids are made up).
        """
        fields = tuple(
            getattr(self, name) for name in self.__dataclass_fields__ if name not in _UNHASHED
        )
        return hashlib.sha256(repr(fields).encode()).hexdigest()


_UNHASHED = frozenset({"last_updated_at", "from_report"})
