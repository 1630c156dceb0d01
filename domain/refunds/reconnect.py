"""Reconnecting an account: what would be sent, and what waits for a person.

While an account is disconnected the store keeps what the platform asks (refunds and
cancellations ``held``) and sends nothing. A channel that is removed and connected again must
never refund on Amazon by surprise: an order may have shipped meanwhile (from Seller Central,
or before the store heard of it), and refunding it then gives money back for goods the buyer
has. So reconnecting sends no refund by itself: every held one waits for approval, and the plan
says for each whether it is safe (nothing of the order shipped: approving all safe ones at once
is fine), needs a person (the order shipped: approve it one by one, on purpose), or can no longer
be done (units to cancel shipped meanwhile: it will fail with that reason)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.orders import AmazonOrder, OrderStatus
from domain.refunds.model import Refund, RefundKind


class Verdict(StrEnum):
    SAFE = "safe"
    NEEDS_APPROVAL = "needs_approval"
    CANNOT = "cannot"


@dataclass(frozen=True, slots=True)
class PlanItem:
    refund: Refund
    verdict: Verdict
    reason: str


@dataclass(frozen=True, slots=True)
class ReconnectPlan:
    account_id: int
    connected: bool
    items: tuple[PlanItem, ...]
    fulfilments_waiting: int  # accepted fulfilments that are sent once connected
    sync_from: datetime | None  # the sync's watermark: it catches up from here

    @property
    def safe(self) -> tuple[PlanItem, ...]:
        return tuple(item for item in self.items if item.verdict is Verdict.SAFE)


def verdict_for(refund: Refund, order: AmazonOrder | None) -> PlanItem:
    """How a held refund or cancellation stands against the order as synced now."""
    if order is None:
        return PlanItem(refund, Verdict.NEEDS_APPROVAL, "the order is not in the store")
    shipped = {line.order_item_id: line.quantity_shipped for line in order.lines}
    if refund.kind is RefundKind.CANCELLATION:
        if order.status is OrderStatus.CANCELLED:
            return PlanItem(refund, Verdict.CANNOT, "the order is already cancelled on Amazon")
        if refund.whole_order and any(shipped.values()):
            return PlanItem(
                refund,
                Verdict.CANNOT,
                "units of the order shipped meanwhile: it cannot be cancelled as a whole "
                "(refund what shipped instead)",
            )
        for line in refund.lines:
            ordered = next(
                (o.quantity_ordered for o in order.lines if o.order_item_id == line.order_item_id),
                0,
            )
            left = ordered - shipped.get(line.order_item_id, 0)
            if line.quantity is not None and line.quantity > left:
                return PlanItem(
                    refund,
                    Verdict.CANNOT,
                    f"order item {line.order_item_id} has {left} unshipped unit(s) left, "
                    f"{line.quantity} were to be cancelled",
                )
        return PlanItem(refund, Verdict.SAFE, "nothing to cancel has shipped")
    if any(shipped.values()) or order.status in (
        OrderStatus.SHIPPED,
        OrderStatus.PARTIALLY_SHIPPED,
    ):
        return PlanItem(
            refund,
            Verdict.NEEDS_APPROVAL,
            f"order {order.amazon_order_id} has shipped: refunding it gives money back for "
            "goods the buyer has; approve it on purpose",
        )
    return PlanItem(refund, Verdict.SAFE, "nothing of the order has shipped")


def plan(
    account_id: int,
    connected: bool,
    held: Sequence[tuple[Refund, AmazonOrder | None]],
    fulfilments_waiting: int,
    sync_from: datetime | None,
) -> ReconnectPlan:
    return ReconnectPlan(
        account_id=account_id,
        connected=connected,
        items=tuple(verdict_for(refund, order) for refund, order in held),
        fulfilments_waiting=fulfilments_waiting,
        sync_from=sync_from,
    )
