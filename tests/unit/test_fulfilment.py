"""Fulfilments on fakes of the ports: the rules of intake, the state machine and the lease, the
confirmation flow (one package per fulfilment, resends are edits), ship-by alerts, the SP-API
adapter's mapping and the producer's message.

The fakes below follow the SQL store's rules (conditional state changes under the lease owner)
so the use cases can be driven through every path without services.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from domain.fulfilments import (
    MAX_ATTEMPTS,
    READ_BACK_GIVE_UP,
    Accepted,
    AmazonUnavailable,
    DeadlineAlert,
    DeadlineKind,
    Fulfilment,
    FulfilmentState,
    IllegalTransition,
    InvalidRequest,
    ItemSnapshot,
    NewFulfilment,
    OpenOrder,
    OrderSnapshot,
    Outcome,
    Package,
    PackageLine,
    PendingReadBack,
    ReadBack,
    Rejected,
    ShipmentRejected,
    accept_fulfilment,
    accept_fulfilment_message,
    amazon_carrier_code,
    can_claim,
    check_deadlines,
    check_transition,
    confirm_fulfilment,
    deadline_kind,
    parse_request,
    read_back_pending,
    retry_fulfilment,
    urgency,
)
from domain.orders import FulfilledBy, OrderStatus
from infra.amazon.errors import (
    AmazonNotFound,
    AmazonServerError,
    AmazonUnreachable,
    InvalidInput,
    RateLimitTimeout,
)
from infra.amazon.gateways import SpApiShipments, package_detail, ship_date
from infra.amazon.schemas import Order
from tests.fakes import T0, FixedClock
from workers import producer

ORDER_ID = "113-0000001-0000001"
LEASE = timedelta(minutes=6)
LONGEST_WAIT = timedelta(minutes=5)


# --- fakes of the ports ---------------------------------------------------------------------


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
        return True

    def claim(self, fulfilment_id: int, owner: str, lease: timedelta) -> Fulfilment | None:
        row = self.rows.get(fulfilment_id)
        if row is None:
            return None
        lease_owner, lease_until = self.leases.get(fulfilment_id, (None, None))
        if not can_claim(row.state, lease_owner, lease_until, owner, self.clock.now()):
            return None
        self.leases[fulfilment_id] = (owner, self.clock.now() + lease)
        return self._move(fulfilment_id, FulfilmentState.SENDING, attempts=row.attempts + 1)

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
        row = self._move(fulfilment_id, FulfilmentState.CONFIRMED)
        self.events.append(("fulfilments/confirmed", {"fulfilment_id": row.id}))
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
        self._move(fulfilment_id, FulfilmentState.FAILED, failure_code=code, failure_reason=message)
        self.events.append(("fulfilments/failed", {"code": code, "message": message}))
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
        return new


@dataclass
class FakeAmazon:
    """``ShipmentGateway`` that keeps packages by (order, packageReferenceId), as Amazon does:
    a resend with the same reference edits the package instead of adding one."""

    packages: dict[tuple[str, str], Package] = field(default_factory=dict)
    calls: list[Package] = field(default_factory=list)
    # Raised on the next calls, in order; (error, applied) applies the package before raising.
    failures: list[tuple[Exception, bool]] = field(default_factory=list)
    # getOrder tokens free per account (absent: unlimited); a read without one is put off.
    read_budget: dict[int, int] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def confirm_shipment(
        self, account_id: int, amazon_order_id: str, marketplace_id: str, package: Package
    ) -> None:
        self.calls.append(package)
        if self.failures:
            error, applied = self.failures.pop(0)
            if applied:
                self.packages[(amazon_order_id, package.package_reference_id)] = package
            raise error
        self.packages[(amazon_order_id, package.package_reference_id)] = package

    def read_back(
        self, account_id: int, amazon_order_id: str, package_reference_id: str
    ) -> ReadBack:
        left = self.read_budget.get(account_id)
        if left is not None:
            if left == 0:
                wait = timedelta(seconds=2)
                return ReadBack(error="RateLimitTimeout", deferred=True, retry_after=wait)
            self.read_budget[account_id] = left - 1
        self.reads.append(package_reference_id)
        listed = (amazon_order_id, package_reference_id) in self.packages
        return ReadBack(package_status="PENDING" if listed else None, package_listed=listed)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(clock: FixedClock) -> FakeFulfilmentStore:
    store = FakeFulfilmentStore(clock)
    store.add_order(order_snapshot())
    return store


def request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_fulfilment_id": "F-1",
        "shipped_at": "2026-11-01T11:30:00+01:00",
        "carrier_code": "ups",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"order_item_id": "ITEM-A", "quantity": 1}],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def accept(store: FakeFulfilmentStore, clock: FixedClock, **changes: Any) -> Accepted | Rejected:
    return accept_fulfilment(parse_request(request(**changes)), store, clock)


def accepted(store: FakeFulfilmentStore, clock: FixedClock, **changes: Any) -> Fulfilment:
    result = accept(store, clock, **changes)
    assert isinstance(result, Accepted), result
    return result.fulfilment


def reasons(result: Accepted | Rejected) -> dict[str, str]:
    assert isinstance(result, Rejected), result
    return {e.field: e.reason for e in result.errors}


def confirm(
    store: FakeFulfilmentStore, amazon: FakeAmazon, fulfilment_id: int, owner: str = "task-1"
) -> Outcome:
    return confirm_fulfilment(
        fulfilment_id,
        store=store,
        amazon=amazon,
        owner=owner,
        lease=LEASE,
        longest_wait=LONGEST_WAIT,
    ).outcome


# --- the request ----------------------------------------------------------------------------


def test_a_request_becomes_a_command_in_utc_with_amazons_spelling_of_the_carrier() -> None:
    command = parse_request(request(lines=[{"sku": "MUG-RED", "quantity": 2}]))
    assert command.shipped_at == datetime(2026, 11, 1, 10, 30, tzinfo=UTC)
    assert command.carrier_code == "UPS"
    assert command.lines[0].sku == "MUG-RED"
    assert amazon_carrier_code("royal  mail") == "Royal Mail"
    assert amazon_carrier_code("Pony Express") is None


def test_a_malformed_request_names_every_field_with_its_reason() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_request(
            {
                "account": "acme",
                "amazon_order_id": ORDER_ID,
                "shipped_at": "2026-11-01T10:00:00",
                "carrier_code": "UPS",
                "lines": [{"quantity": 0, "sku": "X"}, {"order_item_id": "A", "sku": "B"}],
                "colour": "red",
            }
        )
    found = {e.field: e.reason for e in caught.value.errors}
    assert found["colour"] == "unknown field"
    assert found["platform_fulfilment_id"].startswith("required")
    assert "no time zone" in found["shipped_at"]
    assert found["tracking_number"].startswith("required")
    assert "at least 1" in found["lines[0].quantity"]
    assert "one" in found["lines[1]"]


def test_a_carrier_amazon_does_not_know_needs_a_name_and_goes_as_other() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_request(request(carrier_code="Pony Express"))
    assert "not a carrier code Amazon knows" in caught.value.errors[0].reason
    with pytest.raises(InvalidRequest) as caught:
        parse_request(request(carrier_code="Other"))
    assert caught.value.errors[0].field == "carrier_name"
    command = parse_request(request(carrier_code="Pony Express", carrier_name="Pony Express"))
    assert (command.carrier_code, command.carrier_name) == ("Other", "Pony Express")


def test_equal_requests_have_equal_fingerprints_however_they_are_spelled() -> None:
    one = parse_request(request(carrier_code="UPS", shipped_at="2026-11-01T10:30:00Z"))
    two = parse_request(request(carrier_code="ups", shipped_at="2026-11-01T11:30:00+01:00"))
    assert one.fingerprint() == two.fingerprint()
    assert one.fingerprint() != parse_request(request(tracking_number="OTHER")).fingerprint()


# --- intake ---------------------------------------------------------------------------------


def test_accepting_stores_one_fulfilment_with_items_by_amazons_order_item_id(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock, lines=[{"sku": "MUG-RED", "quantity": 2}])
    assert fulfilment.state is FulfilmentState.ACCEPTED
    assert [(ln.order_item_id, ln.quantity) for ln in fulfilment.lines] == [("ITEM-A", 2)]
    assert fulfilment.package_reference_id == str(fulfilment.id)


def test_accepting_the_same_fulfilment_twice_keeps_one_and_answers_the_same(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    first = accept(store, clock)
    second = accept(store, clock, carrier_code="UPS")  # the same, spelled otherwise
    assert isinstance(first, Accepted) and first.created
    assert isinstance(second, Accepted) and not second.created
    assert second.fulfilment == first.fulfilment
    assert len(store.rows) == 1


def test_a_platform_fulfilment_id_used_for_another_body_is_a_conflict(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    accepted(store, clock)
    result = accept(store, clock, tracking_number="ANOTHER")
    assert isinstance(result, Rejected) and result.conflict
    assert "different body" in reasons(result)["platform_fulfilment_id"]
    assert len(store.rows) == 1


def test_an_unknown_account_or_order_is_refused(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    assert "no seller account" in reasons(accept(store, clock, account="nobody"))["account"]
    unknown = reasons(accept(store, clock, amazon_order_id="113-9999999-9999999"))
    assert unknown["amazon_order_id"].startswith("unknown order")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"fulfilled_by": "AMAZON"}, "fulfilled by Amazon: it cannot be fulfilled here"),
        ({"status": "CANCELLED"}, "the order is cancelled on Amazon"),
        ({"status": "PENDING"}, "the order is PENDING on Amazon"),
    ],
)
def test_an_order_that_cannot_ship_from_here_is_refused(
    store: FakeFulfilmentStore, clock: FixedClock, changes: dict[str, Any], reason: str
) -> None:
    store.add_order(order_snapshot(**changes))
    assert reasons(accept(store, clock))["amazon_order_id"].startswith(reason)
    assert not store.rows


def test_more_than_remains_unshipped_is_refused_counting_earlier_fulfilments(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    accepted(store, clock, lines=[{"order_item_id": "ITEM-A", "quantity": 2}])
    result = accept(
        store,
        clock,
        platform_fulfilment_id="F-2",
        lines=[{"order_item_id": "ITEM-A", "quantity": 2}],
    )
    assert (
        "more than remains unshipped: 2 asked, 1 of 3 remain"
        in reasons(result)["lines[0].quantity"]
    )


def test_amazons_shipped_count_and_our_confirmed_one_are_not_counted_twice() -> None:
    # Read back: Amazon counts our confirmed package; before that only we do.
    read_back = ItemSnapshot("A", None, 3, quantity_shipped=2, quantity_confirmed=2)
    not_yet = ItemSnapshot("A", None, 3, quantity_shipped=0, quantity_confirmed=2)
    seller_central = ItemSnapshot("A", None, 3, 1, quantity_confirmed=0, quantity_pending=1)
    assert read_back.quantity_remaining == not_yet.quantity_remaining == 1
    assert seller_central.quantity_remaining == 1


def test_partial_shipments_in_several_packages_add_up_to_the_order(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    accepted(store, clock, lines=[{"order_item_id": "ITEM-A", "quantity": 1}])
    accepted(
        store,
        clock,
        platform_fulfilment_id="F-2",
        tracking_number="T2",
        lines=[{"order_item_id": "ITEM-A", "quantity": 2}],
    )
    rest = accepted(store, clock, platform_fulfilment_id="F-3", tracking_number="T3", lines=[])
    assert [(ln.order_item_id, ln.quantity) for ln in rest.lines] == [("ITEM-B", 1)]
    nothing = accept(store, clock, platform_fulfilment_id="F-4", lines=[])
    assert reasons(nothing)["lines"] == "nothing remains unshipped on this order"


def test_a_buyers_cancellation_request_blocks_until_someone_reviewed_it(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.add_order(
        order_snapshot(buyer_cancel_requested=True, buyer_cancel_reason="ORDERED_BY_MISTAKE")
    )
    refused = reasons(accept(store, clock))["cancellation_request_reviewed"]
    assert "the buyer asked to cancel this order (ORDERED_BY_MISTAKE)" in refused
    assert isinstance(accept(store, clock, cancellation_request_reviewed=True), Accepted)


def test_a_ship_time_in_the_future_or_before_the_purchase_is_refused(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    future = (T0 + timedelta(hours=1)).isoformat()
    assert reasons(accept(store, clock, shipped_at=future))["shipped_at"] == "is in the future"
    early = (T0 - timedelta(days=2)).isoformat()
    assert (
        "before the order was purchased"
        in reasons(accept(store, clock, shipped_at=early))["shipped_at"]
    )


def test_an_unknown_item_or_ambiguous_sku_is_refused(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    order = order_snapshot()
    store.add_order(replace(order, items=(*order.items, ItemSnapshot("ITEM-C", "MUG-RED", 1, 0))))
    result = accept(
        store,
        clock,
        lines=[{"order_item_id": "NOPE", "quantity": 1}, {"sku": "MUG-RED", "quantity": 1}],
    )
    assert reasons(result) == {
        "lines[0].order_item_id": "not an item of this order",
        "lines[1].sku": "several items of this order have it: name the order_item_id",
    }


def test_the_queue_door_records_a_refusal_once_with_one_event(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    message = {"version": 1, "type": "fulfilment.requested", **request(account="nobody")}
    for _ in range(2):
        assert isinstance(accept_fulfilment_message(message, store, clock), Rejected)
    assert list(store.rejections.values()) == [2]
    assert [topic for topic, _ in store.events] == ["fulfilments/failed"]


def test_the_queue_door_reads_version_1_only(store: FakeFulfilmentStore, clock: FixedClock) -> None:
    result = accept_fulfilment_message({"version": 2, **request()}, store, clock)
    assert "not a version this channel reads" in reasons(result)["version"]
    good = {"version": 1, "type": "fulfilment.requested", **request()}
    assert isinstance(accept_fulfilment_message(good, store, clock), Accepted)


# --- the state machine and the lease --------------------------------------------------------


def test_the_state_machine_allows_only_its_transitions() -> None:
    s = FulfilmentState
    allowed = {
        (s.ACCEPTED, s.SENDING),
        (s.SENDING, s.SENDING),
        (s.SENDING, s.ACCEPTED),
        (s.SENDING, s.CONFIRMED),
        (s.SENDING, s.FAILED),
        (s.FAILED, s.ACCEPTED),
    }
    for current in s:
        for new in s:
            if (current, new) in allowed:
                check_transition(current, new)
            else:
                with pytest.raises(IllegalTransition):
                    check_transition(current, new)


def test_a_lease_is_taken_only_when_free_expired_or_already_ones_own() -> None:
    s, later = FulfilmentState, T0 + timedelta(minutes=1)
    assert can_claim(s.ACCEPTED, None, None, "w1", T0)
    assert not can_claim(s.SENDING, "w1", later, "w2", T0)
    assert can_claim(s.SENDING, "w1", later, "w1", T0)
    assert can_claim(s.SENDING, "w1", T0, "w2", later)
    assert not can_claim(s.CONFIRMED, None, None, "w1", T0)
    assert not can_claim(s.FAILED, None, None, "w1", T0)


# --- confirmation ---------------------------------------------------------------------------


def test_confirming_sends_one_package_with_the_id_as_reference_and_the_stores_ship_date(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock, shipped_at="2026-11-01T09:15:00-02:00")
    amazon = FakeAmazon()
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    (package,) = amazon.calls
    assert package.package_reference_id == str(fulfilment.id)
    assert package.ship_date == datetime(2026, 11, 1, 11, 15, tzinfo=UTC)  # not "now"
    assert [(ln.order_item_id, ln.quantity) for ln in package.lines] == [("ITEM-A", 1)]
    assert store.rows[fulfilment.id].state is FulfilmentState.CONFIRMED
    assert store.read_backs[fulfilment.id].package_listed
    assert [topic for topic, _ in store.events] == ["fulfilments/confirmed"]


def test_confirming_twice_sends_once(store: FakeFulfilmentStore, clock: FixedClock) -> None:
    fulfilment = accepted(store, clock)
    amazon = FakeAmazon()
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    assert confirm(store, amazon, fulfilment.id, owner="task-2") is Outcome.SKIPPED
    assert len(amazon.calls) == 1
    assert len(store.events) == 1


def test_a_live_lease_keeps_other_workers_out_and_an_expired_one_is_taken_over(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    assert store.claim(fulfilment.id, "dead-worker", LEASE) is not None
    amazon = FakeAmazon()
    assert confirm(store, amazon, fulfilment.id, owner="task-2") is Outcome.SKIPPED
    assert not amazon.calls
    clock.at = T0 + LEASE
    assert confirm(store, amazon, fulfilment.id, owner="task-2") is Outcome.CONFIRMED
    # The first worker, back from the dead, may no longer write an outcome.
    assert not store.record_confirmed(fulfilment, "dead-worker", ReadBack())
    assert store.rows[fulfilment.id].attempts == 2


def read_back_later(store: FakeFulfilmentStore, amazon: FakeAmazon, clock: FixedClock) -> int:
    return read_back_pending(store, amazon, clock, limit=10, lease=LEASE)


def confirmed_unread(
    store: FakeFulfilmentStore, clock: FixedClock
) -> tuple[Fulfilment, FakeAmazon]:
    """A fulfilment confirmed while its seller's getOrder budget was spent."""
    fulfilment = accepted(store, clock)
    amazon = FakeAmazon(read_budget={7: 0})
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    return fulfilment, amazon


def test_a_read_back_that_would_wait_is_put_off_and_the_confirmation_stands(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment, amazon = confirmed_unread(store, clock)
    assert store.read_backs[fulfilment.id].deferred
    assert [topic for topic, _ in store.events] == ["fulfilments/confirmed"]
    assert store.read_back_due[fulfilment.id] == T0 + timedelta(seconds=2)
    clock.at = T0 + timedelta(seconds=2)
    # The budget is still spent: put off again, by the budget's own estimate, nothing read.
    assert read_back_later(store, amazon, clock) == 0
    assert store.read_back_due[fulfilment.id] == clock.at + timedelta(seconds=2)
    amazon.read_budget[7] = 5
    clock.at += timedelta(seconds=2)
    assert read_back_later(store, amazon, clock) == 1
    assert (
        fulfilment.id not in store.read_back_due and store.read_backs[fulfilment.id].package_listed
    )
    assert read_back_later(store, amazon, clock) == 0
    assert amazon.reads == [str(fulfilment.id)] and len(amazon.calls) == 1  # sent once


def test_one_sellers_spent_budget_does_not_hold_back_anothers_read_backs(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.accounts["globex"] = 8
    store.add_order(order_snapshot(order_id=2, account_id=8))
    first = accepted(store, clock)
    second = accepted(store, clock, account="globex", platform_fulfilment_id="F-2")
    amazon = FakeAmazon(read_budget={7: 0, 8: 0})
    for fulfilment in (first, second):
        assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    amazon.read_budget[8] = 1
    clock.at = T0 + timedelta(minutes=1)
    assert read_back_later(store, amazon, clock) == 1
    assert amazon.reads == [str(second.id)] and set(store.read_back_due) == {first.id}


def test_a_read_back_put_off_for_a_day_is_given_up(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment, amazon = confirmed_unread(store, clock)
    clock.at = T0 + READ_BACK_GIVE_UP + timedelta(seconds=1)
    assert read_back_later(store, amazon, clock) == 0
    assert not store.read_back_due
    assert store.rows[fulfilment.id].state is FulfilmentState.CONFIRMED
    assert store.rows[fulfilment.id].last_error == "RateLimitTimeout"


def test_a_transient_error_gives_the_fulfilment_back_and_raises_for_a_retry(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    amazon = FakeAmazon(failures=[(AmazonUnavailable("Throttled"), False)])
    with pytest.raises(AmazonUnavailable):
        confirm(store, amazon, fulfilment.id)
    row = store.rows[fulfilment.id]
    assert (row.state, row.last_error) == (FulfilmentState.ACCEPTED, "Throttled")
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED


def test_a_response_lost_after_amazon_applied_it_is_resent_as_an_edit_of_the_same_package(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    lost = AmazonUnavailable("AmazonUnreachable: ReadTimeout (request sent)")
    amazon = FakeAmazon(failures=[(lost, True)])
    with pytest.raises(AmazonUnavailable):
        confirm(store, amazon, fulfilment.id)
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED
    assert len(amazon.calls) == 2
    assert {p.package_reference_id for p in amazon.calls} == {str(fulfilment.id)}
    assert len(amazon.packages) == 1  # an edit, never a second package


def test_a_long_throttle_is_left_to_the_sweeper(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    wait = AmazonUnavailable("RateLimitTimeout", retry_after=timedelta(minutes=20))
    amazon = FakeAmazon(failures=[(wait, False)])
    assert confirm(store, amazon, fulfilment.id) is Outcome.DEFERRED
    assert store.rows[fulfilment.id].state is FulfilmentState.ACCEPTED
    assert store.due_at[fulfilment.id] == T0 + timedelta(minutes=20)


def test_a_refusal_by_amazon_fails_the_fulfilment_with_the_reason_until_an_operator_retries(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    refusal = ShipmentRejected("InvalidInput", "Invalid trackingNumber")
    amazon = FakeAmazon(failures=[(refusal, False)])
    assert confirm(store, amazon, fulfilment.id) is Outcome.FAILED
    row = store.rows[fulfilment.id]
    assert (row.state, row.failure_code, row.failure_reason) == (
        FulfilmentState.FAILED,
        "InvalidInput",
        "Invalid trackingNumber",
    )
    assert store.events[-1] == (
        "fulfilments/failed",
        {"code": "InvalidInput", "message": "Invalid trackingNumber"},
    )
    # A failed fulfilment holds no quantity: the operator's retry checks it still fits.
    retried = retry_fulfilment(fulfilment.id, store, clock)
    assert isinstance(retried, Accepted) and retried.created
    assert retried.fulfilment.attempts == 0
    again = retry_fulfilment(fulfilment.id, store, clock)
    assert "only a failed one can be retried" in reasons(again)["fulfilment_id"]
    assert confirm(store, amazon, fulfilment.id) is Outcome.CONFIRMED


def test_a_retry_is_refused_when_the_quantity_was_shipped_meanwhile(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock, lines=[{"order_item_id": "ITEM-B", "quantity": 1}])
    amazon = FakeAmazon(failures=[(ShipmentRejected("InvalidInput", "bad"), False)])
    confirm(store, amazon, fulfilment.id)
    accepted(
        store,
        clock,
        platform_fulfilment_id="F-2",
        lines=[{"order_item_id": "ITEM-B", "quantity": 1}],
    )
    refused = retry_fulfilment(fulfilment.id, store, clock)
    assert "more than remains unshipped" in reasons(refused)["lines[0].quantity"]


def test_a_fulfilment_that_keeps_killing_its_worker_fails_after_the_attempt_limit(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    for attempt in range(MAX_ATTEMPTS):
        assert store.claim(fulfilment.id, f"killed-{attempt}", LEASE) is not None
        clock.at += LEASE
    amazon = FakeAmazon()
    assert confirm(store, amazon, fulfilment.id) is Outcome.FAILED
    assert store.rows[fulfilment.id].failure_code == "TooManyAttempts"
    assert not amazon.calls


def test_the_nearest_ship_by_is_the_most_urgent() -> None:
    levels = [urgency(T0 + timedelta(hours=h), T0) for h in (-1, 1, 5, 30, 100)]
    assert levels == [0, 0, 3, 6, 9]
    assert urgency(None, T0) == 9


# --- ship-by deadlines ----------------------------------------------------------------------


def test_ship_by_warnings_go_out_once_per_order_and_kind(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.add_order(order_snapshot(ship_by_latest=T0 + timedelta(hours=5)))
    store.add_order(
        order_snapshot(order_id=2, amazon_order_id="113-0000002-0000002", ship_by_latest=T0)
    )
    warning = timedelta(hours=24)
    first = check_deadlines(store, clock, warning)
    second = check_deadlines(store, clock, warning)
    assert (first.approaching, first.missed) == (1, 1)
    assert (second.approaching, second.missed) == (0, 0)
    clock.at = T0 + timedelta(hours=6)
    later = check_deadlines(store, clock, warning)
    assert (later.approaching, later.missed) == (0, 1)
    assert sorted(topic for topic, _ in store.events) == [
        "orders/ship_by_approaching",
        "orders/ship_by_missed",
        "orders/ship_by_missed",
    ]


def test_an_order_our_fulfilments_cover_is_not_warned_about(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.add_order(order_snapshot(ship_by_latest=T0 + timedelta(hours=5)))
    accepted(store, clock, lines=[])
    report = check_deadlines(store, clock, timedelta(hours=24))
    assert (report.checked, report.approaching) == (0, 0)


def test_a_deadline_check_already_running_makes_the_second_skip(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    store.deadline_busy = True
    assert check_deadlines(store, clock, timedelta(hours=24)).skipped


def test_deadline_kinds() -> None:
    day = timedelta(hours=24)
    assert deadline_kind(None, T0, day) is None
    assert deadline_kind(T0 + timedelta(hours=25), T0, day) is None
    assert deadline_kind(T0 + timedelta(hours=23), T0, day) is DeadlineKind.APPROACHING
    assert deadline_kind(T0, T0, day) is DeadlineKind.MISSED


# --- the SP-API adapter ---------------------------------------------------------------------


@dataclass
class FakeClient:
    error: Exception | None = None
    sent: list[tuple[str, str, Mapping[str, Any]]] = field(default_factory=list)
    order: dict[str, Any] | None = None
    patience: list[bool] = field(default_factory=list)

    def confirm_shipment(
        self, order_id: str, marketplace_id: str, package_detail: Mapping[str, Any]
    ) -> None:
        self.sent.append((order_id, marketplace_id, package_detail))
        if self.error is not None:
            raise self.error

    def get_order(
        self, order_id: str, included_data: Sequence[str] = (), *, patient: bool = True
    ) -> Order:
        self.patience.append(patient)
        if self.error is not None:
            raise self.error
        if self.order is None:
            raise AmazonNotFound("no such order", status_code=404)
        return Order.model_validate(self.order)


PACKAGE = Package(
    package_reference_id="42",
    carrier_code="Other",
    carrier_name="Pony Express",
    shipping_method=None,
    tracking_number="PX1",
    ship_date=datetime(2026, 11, 1, 10, 30, 15, 999, tzinfo=UTC),
    lines=(),
)


def test_a_package_becomes_confirm_shipments_package_detail() -> None:
    package = replace(PACKAGE, lines=(PackageLine("ITEM-A", 2, "MUG-RED"),))
    assert package_detail(package) == {
        "packageReferenceId": "42",
        "carrierCode": "Other",
        "carrierName": "Pony Express",
        "trackingNumber": "PX1",
        "shipDate": "2026-11-01T10:30:15Z",
        "orderItems": [{"orderItemId": "ITEM-A", "quantity": 2}],
    }
    assert ship_date(datetime(2026, 1, 2, 16, 0, tzinfo=UTC).astimezone()) == (
        "2026-01-02T16:00:00Z"
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InvalidInput("Invalid shipDate", code="InvalidInput", status_code=400), ShipmentRejected),
        (AmazonNotFound("no such order", status_code=404), ShipmentRejected),
        (AmazonServerError("InternalFailure", status_code=500), AmazonUnavailable),
        (AmazonUnreachable("ReadTimeout", request_sent=True), AmazonUnavailable),
    ],
)
def test_amazons_errors_become_the_domains(error: Exception, expected: type[Exception]) -> None:
    shipments = SpApiShipments(lambda _account_id: FakeClient(error=error))
    with pytest.raises(expected):
        shipments.confirm_shipment(7, ORDER_ID, "ATVPDKIKX0DER", PACKAGE)


def test_our_own_rate_budget_tells_how_long_to_wait() -> None:
    error = RateLimitTimeout("no token", retry_after_s=900.0)
    shipments = SpApiShipments(lambda _account_id: FakeClient(error=error))
    with pytest.raises(AmazonUnavailable) as caught:
        shipments.confirm_shipment(7, ORDER_ID, "ATVPDKIKX0DER", PACKAGE)
    assert caught.value.retry_after == timedelta(minutes=15)


def test_the_read_back_finds_our_package_and_never_raises() -> None:
    raw = {
        "orderId": ORDER_ID,
        "createdTime": "2026-10-31T12:00:00Z",
        "lastUpdatedTime": "2026-11-01T12:00:00Z",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
        "fulfillment": {"fulfillmentStatus": "PARTIALLY_SHIPPED", "fulfilledBy": "MERCHANT"},
        "orderItems": [
            {
                "orderItemId": "ITEM-A",
                "quantityOrdered": 3,
                "fulfillment": {"quantityFulfilled": 1},
            }
        ],
        "packages": [
            {"packageReferenceId": "42", "packageStatus": {"status": "IN_TRANSIT"}},
        ],
    }
    found = SpApiShipments(lambda _: FakeClient(order=raw)).read_back(7, ORDER_ID, "42")
    assert found.package_listed and found.package_status == "IN_TRANSIT"
    assert found.order is not None and found.order.status is OrderStatus.PARTIALLY_SHIPPED
    assert found.order.lines[0].quantity_shipped == 1
    missing = SpApiShipments(lambda _: FakeClient()).read_back(7, ORDER_ID, "42")
    assert missing.order is None and missing.error is not None and not missing.deferred


@pytest.mark.parametrize(
    ("error", "retry_after"),
    [
        (RateLimitTimeout("no token", retry_after_s=1.5), timedelta(seconds=1.5)),
        (AmazonServerError("InternalFailure", status_code=500), None),
        (AmazonUnreachable("ReadTimeout", request_sent=True), None),
    ],
)
def test_a_read_back_that_cannot_be_made_now_is_put_off_never_waited_for(
    error: Exception, retry_after: timedelta | None
) -> None:
    client = FakeClient(error=error)
    read_back = SpApiShipments(lambda _: client).read_back(7, ORDER_ID, "42")
    assert read_back.deferred and read_back.retry_after == retry_after
    assert read_back.order is None and read_back.error
    assert client.patience == [False]


# --- the producer ---------------------------------------------------------------------------


@dataclass
class RecordingSender:
    """Celery's ``send_task`` as a list (what the broker would have received)."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.sent.append((name, kwargs))
        return type("Result", (), {"id": f"task-{len(self.sent)}"})()


def test_the_producer_sends_a_versioned_message_that_matches_its_schema() -> None:
    sender = RecordingSender()
    task_id = producer.publish_fulfilment(request(), app=sender)
    ((name, options),) = sender.sent
    assert (task_id, name, options["queue"]) == ("task-1", "fulfil.intake", "fulfil")
    (message,) = options["args"]
    jsonschema.validate(message, producer.MESSAGE_SCHEMA)
    assert (message["version"], message["type"]) == (1, "fulfilment.requested")


def test_the_producer_refuses_a_malformed_message_before_it_reaches_the_queue() -> None:
    sender = RecordingSender()
    with pytest.raises(InvalidRequest) as caught:
        producer.publish_fulfilment(request(tracking_number=None, version=2), app=sender)
    assert {e.field for e in caught.value.errors} == {"version", "tracking_number"}
    assert not sender.sent


def test_confirmations_are_queued_with_the_brokers_sense_of_priority() -> None:
    sender = RecordingSender()
    producer.enqueue_confirmation(5, T0 + timedelta(hours=1), now=T0, app=sender)
    ((name, options),) = sender.sent
    assert (name, options["args"], options["priority"]) == ("fulfil.confirm", [5], 0)
    amqp = type("App", (), {"conf": type("Conf", (), {"broker_url": "amqp://x"})()})()
    assert producer.celery_priority(0, amqp) == 9
    assert producer.celery_priority(0, sender) == 0
