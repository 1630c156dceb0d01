"""Reconnecting an account: what would be sent, and what waits for a person.

While an account is disconnected the store keeps what the platform asks (refunds and
cancellations ``held``) and sends nothing. A channel that is removed and connected again must
never refund on Amazon by surprise: an order may have shipped meanwhile (from Seller Central,
or before the store heard of it), and refunding it then gives money back for goods the buyer
has. So reconnecting sends no refund by itself: every held one waits for approval, and the plan
says for each whether it is safe (nothing of the order shipped: approving all safe ones at once
is fine), needs a person (the order shipped: approve it one by one, on purpose), or can no longer
be done (units to cancel shipped meanwhile: it will fail with that reason).

The store's orders are only as fresh as the sync. Until the sync has read Amazon's changes up to
the moment of reconnecting (its watermark at or after ``reconnected_at``), an order that looks
unshipped may have shipped while the account was disconnected: nothing is called safe before
that (``caught_up``), so approving "all safe" right after reconnecting sends nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.orders import AmazonOrder, OrderStatus
from domain.refunds.model import Refund, RefundKind, RefundState
from domain.refunds.ports import ReconnectStore


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
    synced: bool = True  # the sync has caught up since the reconnect (``caught_up``)

    @property
    def safe(self) -> tuple[PlanItem, ...]:
        return tuple(item for item in self.items if item.verdict is Verdict.SAFE)


NOT_SYNCED = (
    "the sync has not caught up since the account was reconnected: whether the order shipped "
    "meanwhile is not known yet (wait for the sync, or approve it on purpose)"
)


def caught_up(
    connected: bool, sync_watermark: datetime | None, reconnected_at: datetime | None
) -> bool:
    """Whether the store's orders show Amazon as it was when the account was reconnected: it is
    connected and the sync has read every change up to then (``reconnected_at`` None: never
    disconnected, the sync never stopped)."""
    if not connected or sync_watermark is None:
        return False
    return reconnected_at is None or sync_watermark >= reconnected_at


def verdict_for(refund: Refund, order: AmazonOrder | None, synced: bool = True) -> PlanItem:
    """How a held refund or cancellation stands against the order as synced now; ``synced``
    False (the sync has not caught up, ``caught_up``): never safe, only known to be needed."""
    item = _verdict(refund, order)
    if item.verdict is Verdict.SAFE and not synced:
        return PlanItem(refund, Verdict.NEEDS_APPROVAL, NOT_SYNCED)
    return item


def _verdict(refund: Refund, order: AmazonOrder | None) -> PlanItem:
    """The verdict the order as stored gives."""
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
    synced: bool = True,
) -> ReconnectPlan:
    return ReconnectPlan(
        account_id=account_id,
        connected=connected,
        items=tuple(verdict_for(refund, order, synced) for refund, order in held),
        fulfilments_waiting=fulfilments_waiting,
        sync_from=sync_from,
        synced=synced,
    )


def _synced(account_id: int, connected: bool, store: ReconnectStore) -> bool:
    return caught_up(connected, store.sync_watermark(account_id), store.reconnected_at(account_id))


def reconnect_plan(account_id: int, connected: bool, store: ReconnectStore) -> ReconnectPlan:
    """What reconnecting would send, and what waits for a person; changes nothing."""
    return plan(
        account_id,
        connected,
        store.held(account_id),
        store.fulfilments_waiting(account_id),
        store.sync_watermark(account_id),
        synced=_synced(account_id, connected, store),
    )


@dataclass(frozen=True, slots=True)
class Approval:
    approved: tuple[int, ...]
    rejected: tuple[int, ...]
    refused: tuple[tuple[int, str], ...]  # (refund id, why it was not approved)


def approve(
    account_id: int,
    store: ReconnectStore,
    *,
    refund_ids: Sequence[int] = (),
    all_safe: bool = False,
    reject_ids: Sequence[int] = (),
) -> Approval:
    """An operator's decision after reconnecting: ``all_safe`` approves every item the plan
    calls safe; ``refund_ids`` approves those one by one, on purpose (a shipped order's refund
    too), but never one that can no longer be done; ``reject_ids`` fails those with a reason.
    Safe to run twice: what already moved is left as it is."""
    synced = _synced(account_id, True, store)
    current = {
        item.refund.id: item
        for item in plan(account_id, True, store.held(account_id), 0, None, synced).items
    }
    chosen: list[int] = []
    refused: list[tuple[int, str]] = []
    if all_safe:
        for i, safe in current.items():
            if safe.verdict is not Verdict.SAFE:
                continue
            if safe.refund.state is RefundState.AWAITING_APPROVAL:
                chosen.append(i)
            else:  # held: a reconnect cut short, or a refund taken in while it ran
                refused.append((i, "still held: reconnect the account first"))
    for refund_id in refund_ids:
        item = current.get(refund_id)
        if item is None:
            refused.append((refund_id, "not held or awaiting approval for this account"))
        elif item.verdict is Verdict.CANNOT:
            refused.append((refund_id, f"it can no longer be done: {item.reason}"))
        elif item.refund.state is not RefundState.AWAITING_APPROVAL:
            refused.append((refund_id, "still held: reconnect the account first"))
        elif refund_id not in chosen:
            chosen.append(refund_id)
    for refund_id in reject_ids:
        if refund_id not in current:
            refused.append((refund_id, "not held or awaiting approval for this account"))
    approved = store.approve(account_id, chosen) if chosen else []
    rejected = (
        store.reject(account_id, list(reject_ids), "rejected by an operator after reconnecting")
        if reject_ids
        else []
    )
    return Approval(tuple(approved), tuple(rejected), tuple(refused))
