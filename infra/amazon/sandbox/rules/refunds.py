"""Amazon's rules for a refund, shared by the payment adjustment feed and the refund made in
Seller Central (the control API), so the two ways of refunding can never disagree.

A refund is a set of adjusted items, each a list of (component Type, amount) as the feed sends
them: credits to the buyer positive, a ``RestockingFee`` kept back negative. Refused
(``RefundRefused``, naming the field at fault and the order item), in this order:

- the order is pending (nothing was charged);
- a component Type that is not one of ``COMPONENT_TYPES``, or one given twice;
- a negative credit, or a positive ``RestockingFee``;
- ``Tax`` or ``ShippingTax`` on an order whose tax is not refundable (the control API's
  switch): Amazon's own text, ``TAX_NOT_REFUNDABLE``;
- a charged component (``CHARGED_COMPONENTS``) that was never charged ("was not charged"), that
  was refunded in full before ("was already refunded in full on <date> by feed <id> (message
  <n>)" or "in Seller Central", or "earlier in this message"), or refunded beyond what is left
  ("exceeds the ... left to refund");
- a net adjustment that is not a credit; more credited in all than the line's total.

``record`` applies a checked refund: the adjustments on the items (with Amazon's
``OrderAdjustmentItemId``), units cancelled, and the refund event (``state.finances``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.state import (
    CHARGED_COMPONENTS,
    COMPONENT_TYPES,
    TAX_COMPONENTS,
    FinancialEvent,
    SandboxAdjustment,
    SandboxItem,
    SandboxOrder,
    SandboxState,
    charged,
    line_total,
    money,
    settle_fulfillment,
    whole_seconds,
)

TAX_NOT_REFUNDABLE = "The requested refund amount for the tax or shipping tax is not eligible"


class RefundRefused(SandboxError):
    """A refund Amazon would refuse; ``order_state`` when the order cannot take any refund."""

    def __init__(self, message: str, *, order_state: bool = False) -> None:
        super().__init__(message)
        self.order_state = order_state


@dataclass(frozen=True, slots=True)
class AdjustedItem:
    """One item of a refund, checked but not yet recorded."""

    item: SandboxItem
    reason: str
    components: tuple[tuple[str, Decimal], ...]
    quantity_cancelled: int = 0
    merchant_adjustment_item_id: str | None = None


def check_order_refundable(order: SandboxOrder) -> None:
    if order.pending:
        raise RefundRefused(
            f"Order {order.order_id} is pending: nothing was charged to adjust", order_state=True
        )


def check_component_types(components: tuple[tuple[str, Decimal], ...], where: str) -> None:
    seen: set[str] = set()
    for index, (kind, _) in enumerate(components):
        if kind not in COMPONENT_TYPES:
            raise RefundRefused(
                f"{where}[{index}]: Type {kind!r} is not one of {list(COMPONENT_TYPES)}"
            )
        if kind in seen:
            raise RefundRefused(f"{where}[{index}]: Type {kind} appears twice")
        seen.add(kind)
    if not components:
        raise RefundRefused(f"{where}: at least one component is required")


def refunded(item: SandboxItem) -> dict[str, Decimal]:
    """What was refunded for the line before, by component type."""
    done: dict[str, Decimal] = {}
    for adjustment in item.adjustments:
        for kind, amount in adjustment.components:
            done[kind] = done.get(kind, Decimal(0)) + amount
    return done


def _refunded_in_full_by(item: SandboxItem, kind: str, paid: Decimal) -> SandboxAdjustment | None:
    """The adjustment that brought the refunds of ``kind`` up to what was charged."""
    running = Decimal(0)
    for adjustment in item.adjustments:
        running += sum((a for k, a in adjustment.components if k == kind), Decimal(0))
        if running >= paid:
            return adjustment
    return None


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


class RefundCheck:
    """Checks the items of one refund in turn, counting what the earlier ones take."""

    def __init__(self, order: SandboxOrder) -> None:
        self.order = order
        self._pending: dict[str, dict[str, Decimal]] = {}

    def check(
        self, item: SandboxItem, components: tuple[tuple[str, Decimal], ...], where: str
    ) -> None:
        """Refuse the item's components by the rules of the module docstring, or count them."""
        order, currency = self.order, self.order.currency
        item_id = item.order_item_id
        for kind, amount in components:
            if kind == "RestockingFee":
                if amount > 0:
                    raise RefundRefused(
                        f"{where}: a RestockingFee is kept back, so it must be negative"
                    )
            elif amount < 0:
                raise RefundRefused(
                    f"{where}: {kind} {amount} is negative; refunds are credits to the buyer"
                )
        if not order.tax_refundable and any(
            kind in TAX_COMPONENTS and amount > 0 for kind, amount in components
        ):
            raise RefundRefused(TAX_NOT_REFUNDABLE)
        paid = charged(item, currency)
        before = refunded(item)
        pending = self._pending.setdefault(item_id, {})
        for kind, amount in components:
            if kind not in CHARGED_COMPONENTS or amount <= 0:
                continue
            done = money(before.get(kind, Decimal(0)) + pending.get(kind, Decimal(0)), currency)
            left = paid[kind] - done
            if paid[kind] <= 0:
                raise RefundRefused(
                    f"{where}: order item {item_id} was not charged for {kind}, so {amount} "
                    f"{currency} of it cannot be refunded"
                )
            if left <= 0:
                by = _refunded_in_full_by(item, kind, paid[kind])
                when = (
                    f"on {_day(by.posted_at)} {by.by_whom}"
                    if by is not None
                    else "earlier in this message"
                )
                raise RefundRefused(
                    f"{where}: {kind} of order item {item_id} was already refunded in full "
                    f"{when}: {paid[kind]} {currency} charged, {done} {currency} refunded"
                )
            if amount > left:
                raise RefundRefused(
                    f"{where}: refund of {kind} {amount} {currency} exceeds the {left} "
                    f"{currency} left to refund (charged {paid[kind]}, refunded {done})"
                )
        net = sum((amount for _, amount in components), Decimal(0))
        if net < 0:
            raise RefundRefused(f"{where}: the net adjustment {net} is not a credit to the buyer")
        credited = sum(before.values(), Decimal(0)) + sum(pending.values(), Decimal(0)) + net
        total = line_total(item)
        if credited > total:
            raise RefundRefused(
                f"{where}: {credited} {currency} credited in all would exceed the line's total "
                f"of {total} {currency}"
            )
        for kind, amount in components:
            pending[kind] = pending.get(kind, Decimal(0)) + amount


def record(
    state: SandboxState,
    order: SandboxOrder,
    adjusted: list[AdjustedItem],
    *,
    source: str,
    feed_id: str | None = None,
    message_id: int | None = None,
) -> tuple[list[tuple[SandboxItem, SandboxAdjustment]], FinancialEvent]:
    """Apply a checked refund (caller holds ``state.lock``): adjustments, cancelled units,
    the refund event."""
    now = whole_seconds(state.now())
    recorded: list[tuple[SandboxItem, SandboxAdjustment]] = []
    for planned in adjusted:
        adjustment = SandboxAdjustment(
            source=source,
            feed_id=feed_id,
            message_id=message_id,
            reason=planned.reason,
            currency=order.currency,
            components=planned.components,
            quantity_cancelled=planned.quantity_cancelled,
            merchant_adjustment_item_id=planned.merchant_adjustment_item_id,
            posted_at=now,
            order_adjustment_item_id=state.new_adjustment_item_id(),
        )
        item = planned.item
        item.adjustments.append(adjustment)
        if adjustment.quantity_cancelled:
            item.quantity_cancelled += adjustment.quantity_cancelled
            item.seller_cancel_reason = adjustment.reason
        recorded.append((item, adjustment))
    if any(a.quantity_cancelled for a in adjusted):
        settle_fulfillment(order)
        state.touch(order)
    return recorded, state.post_refund(order, recorded)
