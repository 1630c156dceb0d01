"""The seller's money as Amazon's Finances v0 shows it: financial events and event groups.

Events are posted at the sandbox's now and never change:

- a **shipment event** when units of an order ship (a package confirmed by ``confirmShipment``
  or the fulfilment feed, or an order the control API moved to or created as shipped): one
  event per change, one item per line with units newly shipped, carrying what the buyer was
  charged for those units and Amazon's fees (``state.charges``). Each unit is charged once
  (``SandboxItem.quantity_charged``): a package edited, resent or taken back posts nothing;
- a **refund event** when an adjustment is accepted (a payment adjustment feed message, or a
  refund made in Seller Central): one event per message or refund, one item per adjusted line
  with Amazon's ``OrderAdjustmentItemId``.

Groups are per seller and currency and follow 14-day settlement periods from ``GROUP_EPOCH``:
the period holding the sandbox's now is the seller's ``Open`` group; earlier periods with events
are ``Closed`` and paid out (``FundTransferStatus`` ``Succeeded``, transferred when they
closed). A group can also be closed before its period ends (``close``, the control API's
``/_sandbox/settlements/close``): the events posted so far stay in the closed group (ending at
that moment), later ones go to a new open group starting then. Which group an event is in is
decided by its sequence against the close's, never by its whole-second time, so an event posted
in the same second as a close is never moved into a group already settled. A group's
``BeginningBalance`` is 0 and its ``OriginalTotal`` is the sum of its
events' amounts, so a group's total is exactly what ``listFinancialEventsByGroupId`` lists.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from infra.amazon.sandbox.state.charges import Amounts, refund_amounts, shipment_amounts
from infra.amazon.sandbox.state.clock import whole_seconds
from infra.amazon.sandbox.state.records import SandboxAdjustment, SandboxItem, SandboxOrder

GROUP_PERIOD = timedelta(days=14)
GROUP_EPOCH = datetime(2020, 1, 2, 8, 0, tzinfo=UTC)  # where the 14-day periods start
FIRST_ADJUSTMENT_ITEM_ID = 70_000_000_000_001  # Amazon's OrderAdjustmentItemIds are numbers
EVENT_KINDS = ("shipment", "refund")


@dataclass(frozen=True, slots=True)
class EventItem:
    """One ``ShipmentItem`` of an event; amounts on the seller's side (a charge to the buyer
    positive, a fee or a refund negative)."""

    order_item_id: str
    sku: str
    quantity: int
    charges: Amounts  # ItemChargeList, or ItemChargeAdjustmentList for a refund
    fees: Amounts  # ItemFeeList, or ItemFeeAdjustmentList
    withheld: Amounts  # ItemTaxWithheldList's TaxesWithheld (marketplace facilitator)
    adjustment_item_id: str | None = None  # OrderAdjustmentItemId, refunds only

    @property
    def net(self) -> Decimal:
        return sum(
            (amount for _, amount in (*self.charges, *self.fees, *self.withheld)), Decimal(0)
        )


@dataclass(frozen=True, slots=True)
class FinancialEvent:
    sequence: int  # the order events were posted in, across the sandbox
    kind: str  # "shipment" | "refund"
    seller_id: str
    order_id: str
    marketplace_id: str
    currency: str
    posted_at: datetime
    items: tuple[EventItem, ...]

    @property
    def net(self) -> Decimal:
        return sum((item.net for item in self.items), Decimal(0))


@dataclass(frozen=True, slots=True)
class EventGroup:
    """A ``FinancialEventGroup`` as it stands at some moment."""

    group_id: str
    seller_id: str
    currency: str
    start: datetime
    end: datetime
    open: bool
    events: tuple[FinancialEvent, ...]

    @property
    def total(self) -> Decimal:
        return sum((event.net for event in self.events), Decimal(0))


@dataclass(frozen=True, slots=True)
class GroupClose:
    """An open group closed before its period ended: at ``at`` (whole seconds, as Amazon's
    times), holding the seller's events in that currency and period up to
    ``through_sequence``."""

    seller_id: str
    currency: str
    at: datetime
    through_sequence: int


def period_start(moment: datetime) -> datetime:
    """The start of the 14-day settlement period holding ``moment``."""
    periods = (moment - GROUP_EPOCH) // GROUP_PERIOD
    return GROUP_EPOCH + periods * GROUP_PERIOD


def group_id(seller_id: str, currency: str, start: datetime, part: int = 0) -> str:
    """A stable id shaped like Amazon's (43 URL-safe characters): of the period starting at
    ``start``, or of its ``part``-th piece after as many early closes."""
    key = f"{seller_id}|{currency}|{start.isoformat()}" + (f"|{part}" if part else "")
    digest = hashlib.sha256(key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Ledger:
    """Every seller's financial events, in the order they were posted."""

    def __init__(self) -> None:
        self.events: list[FinancialEvent] = []
        self.closes: list[GroupClose] = []
        self._adjustment_items = 0

    def new_adjustment_item_id(self) -> str:
        self._adjustment_items += 1
        return str(FIRST_ADJUSTMENT_ITEM_ID + self._adjustment_items - 1)

    def _post(
        self, kind: str, order: SandboxOrder, items: list[EventItem], now: datetime
    ) -> FinancialEvent:
        event = FinancialEvent(
            sequence=len(self.events) + 1,
            kind=kind,
            seller_id=order.seller_id,
            order_id=order.order_id,
            marketplace_id=order.marketplace_id,
            currency=order.currency,
            posted_at=whole_seconds(now),
            items=tuple(items),
        )
        self.events.append(event)
        return event

    def post_shipments(self, order: SandboxOrder, now: datetime) -> FinancialEvent | None:
        """A shipment event for the units shipped since the last one, if any."""
        items: list[EventItem] = []
        for item in order.items:
            units = item.quantity_shipped - item.quantity_charged
            if units <= 0:
                continue
            charges, fees, withheld = shipment_amounts(
                item, order.currency, item.quantity_charged, units, order.fulfilled_by
            )
            item.quantity_charged += units
            items.append(EventItem(item.order_item_id, item.sku, units, charges, fees, withheld))
        return self._post("shipment", order, items, now) if items else None

    def post_refund(
        self,
        order: SandboxOrder,
        adjusted: list[tuple[SandboxItem, SandboxAdjustment]],
        now: datetime,
    ) -> FinancialEvent:
        """The refund event of one accepted adjustment message (or Seller Central refund)."""
        items: list[EventItem] = []
        for item, adjustment in adjusted:
            charges, fees, withheld = refund_amounts(
                adjustment.components, order.currency, taxed=bool(item.tax), sku=item.sku
            )
            units = adjustment.quantity_cancelled or item.quantity_shipped or item.quantity
            items.append(
                EventItem(
                    item.order_item_id,
                    item.sku,
                    units,
                    charges,
                    fees,
                    withheld,
                    adjustment.order_adjustment_item_id,
                )
            )
        return self._post("refund", order, items, now)

    def of_seller(self, seller_id: str) -> list[FinancialEvent]:
        return [e for e in self.events if e.seller_id == seller_id]

    def _closes_of(self, seller_id: str) -> dict[tuple[str, datetime], list[GroupClose]]:
        """The seller's early closes by (currency, period), oldest first."""
        found: dict[tuple[str, datetime], list[GroupClose]] = {}
        for close in self.closes:
            if close.seller_id == seller_id:
                found.setdefault((close.currency, period_start(close.at)), []).append(close)
        return found

    def groups(self, seller_id: str, now: datetime) -> list[EventGroup]:
        """The seller's groups at ``now``, oldest first (per currency: every period, or part of
        a period closed early, with events, and the open group once the currency has any)."""
        current = period_start(now)
        closes = self._closes_of(seller_id)
        by_part: dict[tuple[str, datetime, int], list[FinancialEvent]] = {}
        for event in self.of_seller(seller_id):
            start = period_start(event.posted_at)
            early = closes.get((event.currency, start), [])
            part = next(
                (at for at, c in enumerate(early) if event.sequence <= c.through_sequence),
                len(early),
            )
            by_part.setdefault((event.currency, start, part), []).append(event)
        for currency in {currency for currency, _, _ in by_part}:
            by_part.setdefault((currency, current, len(closes.get((currency, current), []))), [])
        made: list[EventGroup] = []
        for (currency, period, part), events in by_part.items():
            early = closes.get((currency, period), [])
            start = early[part - 1].at if part else period
            end = early[part].at if part < len(early) else period + GROUP_PERIOD
            made.append(
                EventGroup(
                    group_id=group_id(seller_id, currency, period, part),
                    seller_id=seller_id,
                    currency=currency,
                    start=start,
                    end=end,
                    open=period >= current and part == len(early),
                    events=tuple(events),
                )
            )
        return sorted(made, key=lambda g: (g.start, g.currency))

    def close(self, seller_id: str, currency: str, now: datetime) -> EventGroup | None:
        """Close the seller's open group in ``currency`` now; None when it has no events."""
        current = period_start(now)
        open_group = next(
            (
                g
                for g in self.groups(seller_id, now)
                if g.open and g.currency == currency and g.start >= current
            ),
            None,
        )
        if open_group is None or not open_group.events:
            return None
        through = max(e.sequence for e in open_group.events)
        self.closes.append(GroupClose(seller_id, currency, whole_seconds(now), through))
        return next(g for g in self.groups(seller_id, now) if g.group_id == open_group.group_id)

    def group(self, seller_id: str, wanted: str, now: datetime) -> EventGroup | None:
        return next((g for g in self.groups(seller_id, now) if g.group_id == wanted), None)

    @property
    def adjustment_items(self) -> int:
        """How many ``OrderAdjustmentItemId`` were handed out (the next id's counter)."""
        return self._adjustment_items

    def clear(
        self,
        events: list[FinancialEvent] | None = None,
        adjustment_items: int = 0,
        closes: list[GroupClose] | None = None,
    ) -> None:
        """Empty, or (a saved state loaded) holding ``events``, the early closes and the
        counter it had reached."""
        self.events[:] = events or []
        self.closes[:] = closes or []
        self._adjustment_items = adjustment_items
