"""The RefundIntakeStore and RefundViews ports' fake: in memory, with the SQL store's rules (ids
given by the store, one platform id per account and kind, reopen only from failed, every state
change checked against the domain's machine, one rejection per distinct request with its event),
so the use cases can be driven through every path without services. ``tests/contracts`` runs the
same scenarios against both.

``encode`` is an event encoder for the SQL store's tests: the platform's own, plus the refund
events' topics (``refunds/failed``, ``cancellations/failed``, ...) with a plain payload.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from domain.orders import AmazonOrder, FulfilledBy, LineCharges, OrderLine, OrderStatus
from domain.refunds import (
    TRANSITIONS,
    CancellationConfirmed,
    CancellationFailed,
    Refund,
    RefundConfirmed,
    RefundEvent,
    RefundFailed,
    RefundKind,
    RefundRecordedFromAmazon,
    RefundState,
    refusal_event,
)
from domain.shared import Money, Rejected, row_id
from domain.shared.events import Event
from infra.platform import payloads
from tests.fakes.clock import T0, FixedClock

ORDER_ID = "113-0000001-0000001"
USD = "USD"


def charged_order(**changes: Any) -> AmazonOrder:
    """An unshipped merchant order: ITEM-A x3 (MUG-RED) charged 30.00 + 6.00 shipping + 3.00
    tax + 0.60 shipping tax; ITEM-B x1 (MUG-BLUE) charged 10.00 + 1.00 tax."""
    order = AmazonOrder(
        amazon_order_id=ORDER_ID,
        marketplace_id="ATVPDKIKX0DER",
        status=OrderStatus.UNSHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        purchased_at=T0 - timedelta(days=2),
        last_updated_at=T0 - timedelta(days=1),
        lines=(
            OrderLine(
                "ITEM-A",
                3,
                0,
                sku="MUG-RED",
                unit_price=Money(Decimal("10.00"), USD),
                charges=LineCharges(
                    USD,
                    principal=Decimal("30.00"),
                    shipping=Decimal("6.00"),
                    tax=Decimal("3.00"),
                    shipping_tax=Decimal("0.60"),
                ),
            ),
            OrderLine(
                "ITEM-B",
                1,
                0,
                sku="MUG-BLUE",
                unit_price=Money(Decimal("10.00"), USD),
                charges=LineCharges(USD, principal=Decimal("10.00"), tax=Decimal("1.00")),
            ),
        ),
        total=Money(Decimal("50.60"), USD),
        ship_by_latest=T0 + timedelta(days=2),
    )
    return replace(order, **changes)


def shipped(order: AmazonOrder, item: str, units: int) -> AmazonOrder:
    """``order`` with ``units`` of ``item`` shipped on Amazon."""
    lines = tuple(
        replace(line, quantity_shipped=units) if line.order_item_id == item else line
        for line in order.lines
    )
    shipped_all = all(line.quantity_shipped >= line.quantity_ordered for line in lines)
    status = OrderStatus.SHIPPED if shipped_all else OrderStatus.PARTIALLY_SHIPPED
    return replace(order, lines=lines, status=status)


def request_digest(kind: RefundKind, request: Mapping[str, Any]) -> str:
    data = json.dumps({"kind": kind.value, "request": request}, sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


_TOPICS: dict[type[Event], str] = {
    RefundConfirmed: "refunds/confirmed",
    RefundFailed: "refunds/failed",
    RefundRecordedFromAmazon: "refunds/recorded_from_amazon",
    CancellationConfirmed: "cancellations/confirmed",
    CancellationFailed: "cancellations/failed",
}


def encode(event: Event) -> tuple[str, str]:
    """The platform's encoder, and the refund events' topics with a plain payload."""
    topic = _TOPICS.get(type(event))
    if topic is None:
        return payloads.encode(event)
    assert isinstance(event, RefundEvent)
    refund = event.refund
    body = {
        "refund_id": refund.id,
        "kind": refund.kind.value,
        "account_id": refund.account_id,
        "amazon_order_id": refund.amazon_order_id,
        "platform_id": refund.platform_id,
        "state": refund.state.value,
        "total": str(refund.total.amount),
        "currency": refund.currency,
        "code": getattr(event, "code", None),
        "message": getattr(event, "message", None),
    }
    return topic, json.dumps(body)


@dataclass
class FakeRefundStore:
    """In-memory ``RefundIntakeStore`` + ``RefundViews`` with the SQL store's rules."""

    clock: FixedClock = field(default_factory=FixedClock)
    accounts: dict[str, int] = field(default_factory=lambda: {"acme": 7})
    connected: dict[int, bool] = field(default_factory=dict)
    orders: dict[tuple[int, str], AmazonOrder] = field(default_factory=dict)
    rows: dict[int, Refund] = field(default_factory=dict)
    rejections: dict[str, int] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)
    line_ids: int = 0

    def add_order(self, order: AmazonOrder, account_id: int = 7) -> None:
        self.orders[(account_id, order.amazon_order_id)] = order

    def set_state(self, refund_id: int, state: RefundState, **changes: Any) -> Refund:
        """A state change another part of the store makes (the sending side), checked against
        the domain's machine."""
        row = self.rows[refund_id]
        if state not in TRANSITIONS[row.state]:
            raise AssertionError(f"{row.state} -> {state} is not a move of the machine")
        self.rows[refund_id] = replace(row, state=state, **changes)
        return self.rows[refund_id]

    # RefundIntakeStore / RefundIntakeUnit (the store is its own unit: nothing is written
    # before the last step)
    @contextmanager
    def intake(self) -> Iterator[FakeRefundStore]:
        yield self

    def account_id(self, ref: str) -> int | None:
        by_id = row_id(ref)
        if by_id is not None and by_id in self.accounts.values():
            return by_id
        return self.accounts.get(ref)

    def account_connected(self, account_id: int) -> bool:
        return self.connected.get(account_id, True)

    def lock_order(self, account_id: int, amazon_order_id: str) -> AmazonOrder | None:
        return self.orders.get((account_id, amazon_order_id))

    def refunded(self, account_id: int, amazon_order_id: str) -> list[Refund]:
        return [
            r
            for r in self.rows.values()
            if r.account_id == account_id
            and r.amazon_order_id == amazon_order_id
            and r.state is not RefundState.FAILED
        ]

    def by_platform_id(self, account_id: int, kind: RefundKind, platform_id: str) -> Refund | None:
        return next(
            (
                r
                for r in self.rows.values()
                if (r.account_id, r.kind, r.platform_id) == (account_id, kind, platform_id)
            ),
            None,
        )

    def refund(self, refund_id: int) -> Refund | None:
        return self.rows.get(refund_id)

    def add(self, refund: Refund) -> Refund | None:
        if refund.platform_id is not None and self.by_platform_id(
            refund.account_id, refund.kind, refund.platform_id
        ):
            return None
        lines = []
        for line in refund.lines:
            self.line_ids += 1
            lines.append(replace(line, id=self.line_ids))
        refund_id = len(self.rows) + 1
        self.rows[refund_id] = replace(refund, id=refund_id, lines=tuple(lines))
        return self.rows[refund_id]

    def reopen(self, refund_id: int) -> Refund | None:
        if self.rows[refund_id].state is not RefundState.FAILED:
            return None
        return self.set_state(
            refund_id,
            RefundState.ACCEPTED,
            attempts=0,
            submission_id=None,
            failure_code=None,
            failure_reason=None,
        )

    # RefundViews
    def get(self, refund_id: int) -> Refund | None:
        return self.rows.get(refund_id)

    def list(
        self,
        *,
        kind: RefundKind | None = None,
        account_id: int | None = None,
        amazon_order_id: str | None = None,
        state: RefundState | None = None,
        after_id: int | None = None,
        limit: int = 50,
    ) -> list[Refund]:
        found = [
            r
            for _, r in sorted(self.rows.items())
            if (kind is None or r.kind is kind)
            and (account_id is None or r.account_id == account_id)
            and (amazon_order_id is None or r.amazon_order_id == amazon_order_id)
            and (state is None or r.state is state)
            and (after_id is None or r.id > after_id)
        ]
        return found[:limit]

    def record_rejection(
        self, kind: RefundKind, request: Mapping[str, Any], rejected: Rejected
    ) -> bool:
        digest = request_digest(kind, request)
        self.rejections[digest] = self.rejections.get(digest, 0) + 1
        if self.rejections[digest] > 1:
            return False
        account = request.get("account")
        account_id = self.account_id(str(account)) if isinstance(account, str | int) else None
        self.outbox.append(
            refusal_event(
                kind, request, rejected, account_id=account_id, digest=digest, at=self.clock.now()
            )
        )
        return True
