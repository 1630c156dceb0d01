"""The FulfilmentStore, ReadBackStore and DeadlineStore ports' fake: in memory, with the SQL
store's rules (conditional state changes under the lease owner, every change checked against
the domain's machine with ``check_transition``), so the use cases can be driven through every
path without services. ``tests/contracts`` runs the same scenarios against both."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from domain.fulfilments import (
    DeadlineAlert,
    Fulfilment,
    FulfilmentState,
    ItemSnapshot,
    NewFulfilment,
    OpenOrder,
    OrderSnapshot,
    PendingReadBack,
    ReadBack,
    Rejected,
    can_claim,
    check_transition,
)
from domain.fulfilments.events import (
    FulfilmentConfirmed,
    FulfilmentFailed,
    FulfilmentRefused,
    ship_by_event,
)
from domain.orders import FulfilledBy, OrderStatus
from domain.shared.events import Event
from tests.fakes.clock import T0, FixedClock

ORDER_ID = "113-0000001-0000001"


def order_snapshot(**changes: Any) -> OrderSnapshot:
    order = OrderSnapshot(
        order_id=1,
        account_id=7,
        amazon_order_id=ORDER_ID,
        marketplace_id="ATVPDKIKX0DER",
        status=OrderStatus.UNSHIPPED.value,
        fulfilled_by=FulfilledBy.MERCHANT.value,
        purchased_at=T0 - timedelta(days=1),
        ship_by_latest=T0 + timedelta(hours=30),
        buyer_cancel_requested=False,
        buyer_cancel_reason=None,
        items=(
            ItemSnapshot("ITEM-A", "MUG-RED", quantity_ordered=3, quantity_shipped=0),
            ItemSnapshot("ITEM-B", "MUG-BLUE", quantity_ordered=1, quantity_shipped=0),
        ),
    )
    return replace(order, **changes)


@dataclass
class FakeFulfilmentStore:
    """In-memory ``FulfilmentStore`` + ``DeadlineStore`` with the SQL store's rules."""

    clock: FixedClock
    accounts: dict[str, int] = field(default_factory=lambda: {"acme": 7})
    orders: dict[tuple[int, str], OrderSnapshot] = field(default_factory=dict)
    rows: dict[int, Fulfilment] = field(default_factory=dict)
    leases: dict[int, tuple[str | None, datetime | None]] = field(default_factory=dict)
    due_at: dict[int, datetime | None] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rejections: dict[str, int] = field(default_factory=dict)
    alerts: set[tuple[int, str, datetime]] = field(default_factory=set)
    read_backs: dict[int, ReadBack] = field(default_factory=dict)
    # Read-backs put off: when each is due, and when its fulfilment was confirmed.
    read_back_due: dict[int, datetime] = field(default_factory=dict)
    confirmed_at: dict[int, datetime] = field(default_factory=dict)
    deadline_busy: bool = False
    # The events the SQL store would append to the outbox, as values.
    outbox: list[Event] = field(default_factory=list)

    def add_order(self, order: OrderSnapshot) -> None:
        self.orders[(order.account_id, order.amazon_order_id)] = order

    def _move(self, fulfilment_id: int, new: FulfilmentState, **changes: Any) -> Fulfilment:
        row = self.rows[fulfilment_id]
        check_transition(row.state, new)
        row = replace(row, state=new, **changes)
        self.rows[fulfilment_id] = row
        return row

    def with_our_quantities(self, order: OrderSnapshot) -> OrderSnapshot:
        items = []
        for item in order.items:
            counts = {s: 0 for s in FulfilmentState}
            for f in self.rows.values():
                if f.order_id == order.order_id:
                    for line in f.lines:
                        if line.order_item_id == item.order_item_id:
                            counts[f.state] += line.quantity
            items.append(
                replace(
                    item,
                    quantity_confirmed=counts[FulfilmentState.CONFIRMED],
                    quantity_pending=counts[FulfilmentState.ACCEPTED]
                    + counts[FulfilmentState.SENDING],
                )
            )
        return replace(order, items=tuple(items))

    # IntakeUnit (the store is its own unit: nothing is written before the last step)
    @contextmanager
    def intake(self) -> Iterator[FakeFulfilmentStore]:
        yield self

    def account_id(self, ref: str) -> int | None:
        if ref.isdigit():
            return int(ref) if int(ref) in self.accounts.values() else None
        return self.accounts.get(ref)

    def lock_order(self, account_id: int, amazon_order_id: str) -> OrderSnapshot | None:
        order = self.orders.get((account_id, amazon_order_id))
        return self.with_our_quantities(order) if order is not None else None

    def fulfilment_by_platform_id(
        self, account_id: int, platform_fulfilment_id: str
    ) -> Fulfilment | None:
        return next(
            (
                f
                for f in self.rows.values()
                if f.account_id == account_id and f.platform_fulfilment_id == platform_fulfilment_id
            ),
            None,
        )

    def fulfilment(self, fulfilment_id: int) -> Fulfilment | None:
        return self.rows.get(fulfilment_id)

    def add(self, new: NewFulfilment) -> Fulfilment | None:
        command = new.command
        if self.fulfilment_by_platform_id(new.order.account_id, command.platform_fulfilment_id):
            return None
        fulfilment_id = len(self.rows) + 1
        self.rows[fulfilment_id] = Fulfilment(
            id=fulfilment_id,
            account_id=new.order.account_id,
            order_id=new.order.order_id,
            amazon_order_id=new.order.amazon_order_id,
            marketplace_id=new.order.marketplace_id,
            platform_fulfilment_id=command.platform_fulfilment_id,
            state=FulfilmentState.ACCEPTED,
            shipped_at=command.shipped_at,
            carrier_code=command.carrier_code,
            carrier_name=command.carrier_name,
            shipping_method=command.shipping_method,
            tracking_number=command.tracking_number,
            lines=new.lines,
            fingerprint=command.fingerprint(),
            ship_by_latest=new.order.ship_by_latest,
        )
        self.due_at[fulfilment_id] = self.clock.now() + new.sweep_after
        return self.rows[fulfilment_id]

    def reopen(self, fulfilment_id: int, sweep_after: timedelta) -> Fulfilment | None:
        if self.rows[fulfilment_id].state is not FulfilmentState.FAILED:
            return None
        self.due_at[fulfilment_id] = self.clock.now() + sweep_after
        return self._move(
            fulfilment_id,
            FulfilmentState.ACCEPTED,
            attempts=0,
            failure_code=None,
            failure_reason=None,
        )

    # FulfilmentStore
    def record_rejection(self, request: Mapping[str, Any], rejected: Rejected) -> bool:
        key = repr(sorted(request.items()))
        self.rejections[key] = self.rejections.get(key, 0) + 1
        if self.rejections[key] > 1:
            return False
        self.events.append(("fulfilments/failed", {"errors": rejected.errors}))
        account = request.get("account")
        account_id = self.account_id(str(account)) if account is not None else None
        order = request.get("amazon_order_id")
        self.outbox.append(
            FulfilmentRefused(
                account_ref=str(account) if account is not None else None,
                account_id=account_id,
                amazon_order_id=str(order) if order is not None else None,
                platform_fulfilment_id=request.get("platform_fulfilment_id"),
                rejected=rejected,
                request_digest=key,
                order_ref=str(order) if order is not None else None,
            )
        )
        return True

    def claim(self, fulfilment_id: int, owner: str, lease: timedelta) -> Fulfilment | None:
        row = self.rows.get(fulfilment_id)
        if row is None:
            return None
        _, lease_until = self.leases.get(fulfilment_id, (None, None))
        if not can_claim(row.state, lease_until, self.clock.now()):
            return None
        self.leases[fulfilment_id] = (owner, self.clock.now() + lease)
        self.due_at[fulfilment_id] = None  # due again as soon as the lease runs out
        return self._move(fulfilment_id, FulfilmentState.SENDING, attempts=row.attempts + 1)

    def renew_lease(self, fulfilment_id: int, owner: str, lease: timedelta) -> bool:
        if fulfilment_id not in self.rows or not self._holds(fulfilment_id, owner):
            return False
        self.leases[fulfilment_id] = (owner, self.clock.now() + lease)
        return True

    def let_go(self, fulfilment_id: int, owner: str) -> bool:
        if fulfilment_id not in self.rows or not self._holds(fulfilment_id, owner):
            return False
        self.leases[fulfilment_id] = (owner, self.clock.now())
        return True

    def _holds(self, fulfilment_id: int, owner: str) -> bool:
        row = self.rows[fulfilment_id]
        held = self.leases.get(fulfilment_id, (None, None))[0] == owner
        return row.state is FulfilmentState.SENDING and held

    def release(self, fulfilment_id: int, owner: str, retry_in: timedelta, error: str) -> bool:
        if not self._holds(fulfilment_id, owner):
            return False
        self.leases[fulfilment_id] = (None, None)
        self.due_at[fulfilment_id] = self.clock.now() + retry_in
        self._move(fulfilment_id, FulfilmentState.ACCEPTED, last_error=error)
        return True

    def record_confirmed(self, fulfilment: Fulfilment, owner: str, read_back: ReadBack) -> bool:
        fulfilment_id = fulfilment.id
        if not self._holds(fulfilment_id, owner):
            return False
        self.leases[fulfilment_id] = (None, None)
        self.read_backs[fulfilment_id] = read_back
        self.confirmed_at[fulfilment_id] = self.clock.now()
        if read_back.deferred:
            wait = read_back.retry_after or timedelta(0)
            self.read_back_due[fulfilment_id] = self.clock.now() + wait
        row = self._move(fulfilment_id, FulfilmentState.CONFIRMED, last_error=None)
        self.events.append(("fulfilments/confirmed", {"fulfilment_id": row.id}))
        self.outbox.append(FulfilmentConfirmed(row, read_back))
        return True

    # ReadBackStore
    def claim_read_back(
        self, lease: timedelta, skip_accounts: frozenset[int]
    ) -> PendingReadBack | None:
        now = self.clock.now()
        due = sorted(
            (at, fid)
            for fid, at in self.read_back_due.items()
            if at <= now and self.rows[fid].account_id not in skip_accounts
        )
        if not due:
            return None
        fid = due[0][1]
        self.read_back_due[fid] = now + lease
        row = self.rows[fid]
        return PendingReadBack(fid, row.account_id, row.amazon_order_id, self.confirmed_at[fid])

    def defer_read_back(
        self, fulfilment_id: int, retry_in: timedelta, error: str | None, give_up: bool
    ) -> None:
        if give_up:
            self.read_back_due.pop(fulfilment_id)
            self.rows[fulfilment_id] = replace(self.rows[fulfilment_id], last_error=error)
        else:
            self.read_back_due[fulfilment_id] = self.clock.now() + retry_in

    def record_read_back(self, pending: PendingReadBack, read_back: ReadBack) -> None:
        if self.read_back_due.pop(pending.fulfilment_id, None) is not None:
            self.read_backs[pending.fulfilment_id] = read_back

    def record_failed(self, fulfilment_id: int, owner: str, code: str, message: str) -> bool:
        if not self._holds(fulfilment_id, owner):
            return False
        self.leases[fulfilment_id] = (None, None)
        row = self._move(
            fulfilment_id, FulfilmentState.FAILED, failure_code=code, failure_reason=message
        )
        self.events.append(("fulfilments/failed", {"code": code, "message": message}))
        self.outbox.append(FulfilmentFailed(row, code, message))
        return True

    # DeadlineStore
    @contextmanager
    def deadline_lock(self) -> Iterator[bool]:
        yield not self.deadline_busy

    def open_orders_due_by(self, horizon: datetime) -> list[OpenOrder]:
        found = []
        for order in self.orders.values():
            if (
                order.status in (OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED)
                and order.fulfilled_by == FulfilledBy.MERCHANT
                and order.ship_by_latest is not None
                and order.ship_by_latest <= horizon
            ):
                ours = self.with_our_quantities(order)
                found.append(
                    OpenOrder(
                        order.order_id,
                        order.account_id,
                        order.amazon_order_id,
                        order.status,
                        order.ship_by_latest,
                        ours.items,
                    )
                )
        return found

    def record_alerts(self, alerts: Sequence[DeadlineAlert], now: datetime) -> list[DeadlineAlert]:
        new = []
        for alert in alerts:
            key = (alert.order.order_id, alert.kind.value, alert.order.ship_by_latest)
            if key not in self.alerts:
                self.alerts.add(key)
                new.append(alert)
                self.events.append((f"orders/ship_by_{alert.kind.value}", {}))
                self.outbox.append(ship_by_event(alert, now))
        return new
