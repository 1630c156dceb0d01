"""The commands that ask for a refund and for a cancellation, the same from every door."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from domain.refunds.components import Component


@dataclass(frozen=True, slots=True)
class RefundLineRequest:
    """One line, by Amazon's ``order_item_id`` or the seller's ``sku``: either ``amounts`` per
    component, or a ``quantity`` of units whose amounts are computed from what the order
    charged (``rules.amounts_for_quantity``), not both."""

    order_item_id: str | None = None
    sku: str | None = None
    quantity: int | None = None
    amounts: tuple[tuple[Component, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class IssueRefund:
    account: str
    amazon_order_id: str
    platform_refund_id: str
    reason: str  # the platform's reason or Amazon's AdjustmentReason
    lines: tuple[RefundLineRequest, ...]
    currency: str | None = None  # when given, it must be the order's

    def fingerprint(self) -> str:
        """Equal fingerprints: the same refund, however it was spelled or which door took it."""
        data = {
            "amazon_order_id": self.amazon_order_id,
            "platform_refund_id": self.platform_refund_id,
            "reason": self.reason,
            "currency": self.currency,
            "lines": [
                [
                    line.order_item_id,
                    line.sku,
                    line.quantity,
                    sorted([str(c), str(a.normalize())] for c, a in line.amounts),
                ]
                for line in self.lines
            ],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CancelLineRequest:
    """One line to cancel; no ``quantity``: every unit of it not shipped yet."""

    order_item_id: str | None = None
    sku: str | None = None
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel these lines (none: the whole order) and refund ``refund_amount`` for them.

    Every Amazon order is tied to a payment, so a cancellation carries a refund of more than 0;
    it must equal what the cancelled units charged (Amazon gives that back), and ``None`` means
    "that amount", computed."""

    account: str
    amazon_order_id: str
    platform_cancellation_id: str
    reason: str  # the platform's reason or Amazon's CancelReason
    lines: tuple[CancelLineRequest, ...] = ()
    refund_amount: Decimal | None = None
    currency: str | None = None

    def fingerprint(self) -> str:
        data = {
            "amazon_order_id": self.amazon_order_id,
            "platform_cancellation_id": self.platform_cancellation_id,
            "reason": self.reason,
            "refund_amount": None
            if self.refund_amount is None
            else str(self.refund_amount.normalize()),
            "currency": self.currency,
            "lines": [[line.order_item_id, line.sku, line.quantity] for line in self.lines],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
