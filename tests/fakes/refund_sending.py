"""The refund store's sending ports' fake (``RefundSendingStore``, ``AmazonRefundStore``): refunds,
orders, accounts, Finances watermarks and the submissions' rows in memory, with the SQL store's
rules: every refund state change checked against the domain's machine, a unit of work rolled
back whole when its block raises (a ``Killed`` worker too), a refund taken by one batch only.
``FakeSubmissionStore`` (``tests.fakes.submission_store``) works on the same rows."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.feeds import FeedType, SubmissionState
from domain.orders import AmazonOrder, FulfilledBy, LineCharges, OrderLine, OrderStatus
from domain.refunds import (
    TRANSITIONS,
    AmazonRefund,
    AmazonRefundItem,
    Component,
    Refund,
    RefundKind,
    RefundLine,
    RefundRecordedFromAmazon,
    RefundSource,
    RefundState,
)
from domain.refunds.ports import BatchKey, PendingBatch
from domain.refunds.send import batch_key, failed_event
from domain.shared import Money
from domain.shared.events import Event
from tests.fakes.clock import T0, FixedClock


class IllegalMove(AssertionError):
    """The fake was asked for a change the domain's machine forbids."""


@dataclass
class SubmissionRow:
    """A ``feed_submissions`` row."""

    id: int
    account_id: int
    marketplace_id: str
    feed_type: FeedType
    document: bytes
    created_at: datetime
    state: SubmissionState = SubmissionState.BUILT
    feed_document_id: str | None = None
    amazon_feed_id: str | None = None
    create_started_at: datetime | None = None
    create_ended_at: datetime | None = None
    processing_status: str | None = None
    result_document_id: str | None = None
    report: bytes | None = None
    evidence: str | None = None
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    finished_at: datetime | None = None


@dataclass
class FakeSendingStore:
    clock: FixedClock
    refunds: dict[int, Refund] = field(default_factory=dict)
    # When each accepted refund became sendable (the SQL store's next_attempt_at/created_at).
    ready_at: dict[int, datetime] = field(default_factory=dict)
    amazon_keys: dict[int, str] = field(default_factory=dict)
    orders: dict[tuple[int, str], AmazonOrder] = field(default_factory=dict)
    connected: dict[int, bool] = field(default_factory=dict)
    account_marketplaces: dict[int, tuple[str, ...]] = field(default_factory=dict)
    cursors: dict[int, datetime] = field(default_factory=dict)
    covered: dict[int, datetime] = field(default_factory=dict)
    submissions: dict[int, SubmissionRow] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    order_locks: list[str] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)

    # -- set-up and rules ---------------------------------------------------------------------

    def next_id(self, name: str) -> int:
        self._ids[name] = self._ids.get(name, 0) + 1
        return self._ids[name]

    def add(self, refund: Refund) -> Refund:
        """Store it as intake would: ids given here (refund and lines)."""
        refund_id = self.next_id("refund")
        lines = tuple(replace(line, id=self.next_id("line")) for line in refund.lines)
        stored = replace(refund, id=refund_id, lines=lines)
        self.refunds[refund_id] = stored
        self.ready_at[refund_id] = stored.created_at
        return stored

    def move(self, refund_id: int, target: RefundState, **changes: Any) -> Refund:
        current = self.refunds[refund_id]
        if target not in TRANSITIONS[current.state]:
            raise IllegalMove(f"refund {refund_id}: {current.state} -> {target}")
        moved = replace(current, state=target, **changes)
        self.refunds[refund_id] = moved
        return moved

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All of the block or none of it."""
        saved = (
            dict(self.refunds),
            dict(self.ready_at),
            dict(self.amazon_keys),
            copy.deepcopy(self.submissions),
            list(self.events),
            dict(self.cursors),
            dict(self._ids),
        )
        try:
            yield
        except BaseException:
            (
                self.refunds,
                self.ready_at,
                self.amazon_keys,
                self.submissions,
                self.events,
                self.cursors,
                self._ids,
            ) = saved
            raise

    def _due(self, refund: Refund) -> bool:
        return (
            refund.state is RefundState.ACCEPTED
            and refund.source is RefundSource.STORE
            and self.connected.get(refund.account_id, True)
            and self.ready_at[refund.id] <= self.clock.now()
        )

    # -- RefundSendingStore -------------------------------------------------------------------

    def pending(self) -> list[PendingBatch]:
        groups: dict[BatchKey, list[Refund]] = {}
        for refund in self.refunds.values():
            if self._due(refund):
                groups.setdefault(batch_key(refund), []).append(refund)
        now = self.clock.now()
        unsent = (SubmissionState.BUILT, SubmissionState.UPLOADED, SubmissionState.CREATING)
        waiting = {
            BatchKey(row.account_id, row.marketplace_id, row.feed_type)
            for row in self.submissions.values()
            if row.state in unsent
        }
        return [
            PendingBatch(
                key,
                len(found),
                now - min(self.ready_at[r.id] for r in found),
                feed_waiting=key in waiting,
            )
            for key, found in sorted(groups.items(), key=lambda kv: min(r.id for r in kv[1]))
        ]

    def candidates(self, key: BatchKey, limit: int, skip: Collection[int] = ()) -> list[Refund]:
        found = [
            r
            for r in self.refunds.values()
            if self._due(r) and batch_key(r) == key and r.id not in skip
        ]
        found.sort(key=lambda r: (self.ready_at[r.id], r.id))
        return found[:limit]

    @contextmanager
    def batch(self) -> Iterator[FakeBatchUnit]:
        with self.transaction():
            yield FakeBatchUnit(self)

    # -- AmazonRefundStore ----------------------------------------------------------------------

    @contextmanager
    def recording(self) -> Iterator[FakeAmazonRefundUnit]:
        with self.transaction():
            yield FakeAmazonRefundUnit(self)

    def finance_cursor(self, account_id: int) -> datetime | None:
        return self.cursors.get(account_id)

    def save_finance_cursor(
        self, account_id: int, posted_after: datetime, covered_since: datetime | None = None
    ) -> None:
        before = self.cursors.get(account_id)
        self.cursors[account_id] = posted_after if before is None else max(before, posted_after)
        if covered_since is not None:
            self.covered.setdefault(account_id, covered_since)

    def finance_coverage(self, account_id: int) -> tuple[datetime, datetime] | None:
        since = self.covered.get(account_id)
        return None if since is None else (since, self.cursors[account_id])

    def sweep_accounts(self) -> list[int]:
        accounts = {r.account_id for r in self.refunds.values()} | set(self.connected)
        return sorted(a for a in accounts if self.connected.get(a, True))

    # -- for tests ------------------------------------------------------------------------------

    def states(self) -> dict[int, RefundState]:
        return {refund_id: refund.state for refund_id, refund in self.refunds.items()}

    def topics(self) -> list[str]:
        return [type(event).__name__ for event in self.events]

    def back_to_accepted(self, refund_id: int, after: timedelta = timedelta(0)) -> Refund:
        moved = self.move(refund_id, RefundState.ACCEPTED, submission_id=None)
        self.ready_at[refund_id] = self.clock.now() + after
        return moved


@dataclass
class FakeBatchUnit:
    store: FakeSendingStore

    def take(self, key: BatchKey, refund_ids: Sequence[int]) -> list[Refund]:
        found = [self.store.refunds.get(refund_id) for refund_id in refund_ids]
        return sorted(
            (r for r in found if r is not None and self.store._due(r) and batch_key(r) == key),
            key=lambda r: r.id,
        )

    def add_submission(self, key: BatchKey, document: bytes, refunds: Sequence[Refund]) -> int:
        store = self.store
        submission_id = store.next_id("submission")
        store.submissions[submission_id] = SubmissionRow(
            submission_id,
            key.account_id,
            key.marketplace_id,
            key.feed_type,
            document,
            store.clock.now(),
        )
        for refund in refunds:
            store.move(refund.id, RefundState.IN_FEED, submission_id=submission_id)
        return submission_id


@dataclass
class FakeAmazonRefundUnit:
    store: FakeSendingStore

    def lock_order(self, account_id: int, amazon_order_id: str) -> AmazonOrder | None:
        self.store.order_locks.append(amazon_order_id)
        return self.store.orders.get((account_id, amazon_order_id))

    def marketplaces(self, account_id: int) -> tuple[str, ...]:
        return self.store.account_marketplaces.get(account_id, ())

    def refunded(self, account_id: int, amazon_order_id: str) -> Sequence[Refund]:
        return [
            r
            for r in self.store.refunds.values()
            if r.account_id == account_id
            and r.amazon_order_id == amazon_order_id
            and r.state is not RefundState.FAILED
        ]

    def recorded_keys(self, account_id: int, keys: Sequence[str]) -> frozenset[str]:
        mine = {
            key
            for refund_id, key in self.store.amazon_keys.items()
            if self.store.refunds[refund_id].account_id == account_id
        }
        return frozenset(key for key in keys if key in mine)

    def paired(self, account_id: int, amazon_order_id: str) -> frozenset[int]:
        return frozenset(
            refund_id
            for refund_id in self.store.amazon_keys
            if self.store.refunds[refund_id].source is RefundSource.STORE
            and self.store.refunds[refund_id].amazon_order_id == amazon_order_id
        )

    def pair(self, refund_id: int, amazon_key: str) -> bool:
        if refund_id in self.store.amazon_keys or amazon_key in self.store.amazon_keys.values():
            return False
        self.store.amazon_keys[refund_id] = amazon_key
        return True

    def record_from_amazon(self, refund: Refund, found: AmazonRefund) -> Refund | None:
        if found.key in self.store.amazon_keys.values():
            return None
        stored = self.store.add(refund)
        self.store.amazon_keys[stored.id] = found.key
        self.store.events.append(RefundRecordedFromAmazon(stored))
        return stored

    def fail(self, refund_id: int, code: str, message: str) -> Refund | None:
        current = self.store.refunds.get(refund_id)
        if current is None or current.state is not RefundState.ACCEPTED:
            return None
        failed = self.store.move(
            refund_id, RefundState.FAILED, failure_code=code, failure_reason=message
        )
        self.store.events.append(failed_event(failed, code, message))
        return failed


# --- builders ------------------------------------------------------------------------------------

ACCOUNT = 7
MARKETPLACE = "ATVPDKIKX0DER"


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def charged_order(amazon_order_id: str = "113-0000001-0000001", **changes: Any) -> AmazonOrder:
    """A shipped order: ITEM-A x2 charged 39.98 + 4.99 shipping + 3.20 tax, ITEM-B x1 19.99."""
    order = AmazonOrder(
        amazon_order_id=amazon_order_id,
        marketplace_id=MARKETPLACE,
        status=OrderStatus.SHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        purchased_at=T0 - timedelta(days=5),
        last_updated_at=T0 - timedelta(days=1),
        lines=(
            OrderLine(
                "ITEM-A",
                2,
                2,
                sku="MUG-RED",
                unit_price=usd("19.99"),
                charges=LineCharges(
                    "USD", Decimal("39.98"), shipping=Decimal("4.99"), tax=Decimal("3.20")
                ),
            ),
            OrderLine(
                "ITEM-B",
                1,
                1,
                sku="MUG-BLUE",
                unit_price=usd("19.99"),
                charges=LineCharges("USD", Decimal("19.99")),
            ),
        ),
        total=usd("68.16"),
    )
    return replace(order, **changes)


def new_refund(
    amazon_order_id: str = "113-0000001-0000001",
    *lines: tuple[str, tuple[tuple[Component, str], ...]],
    kind: RefundKind = RefundKind.REFUND,
    whole_order: bool = False,
    quantity: int | None = None,
    reason: str = "CustomerReturn",
    account_id: int = ACCOUNT,
    marketplace_id: str = MARKETPLACE,
    created_at: datetime = T0,
    platform_id: str | None = None,
) -> Refund:
    """A store refund, accepted (ids 0: ``FakeSendingStore.add`` gives them). Lines default to
    19.99 item price of ITEM-A."""
    wanted = lines or (("ITEM-A", ((Component.ITEM_PRICE, "19.99"),)),)
    return Refund(
        id=0,
        kind=kind,
        source=RefundSource.STORE,
        account_id=account_id,
        amazon_order_id=amazon_order_id,
        marketplace_id=marketplace_id,
        platform_id=platform_id or f"P-{amazon_order_id}-{len(wanted)}-{created_at:%H%M%S}",
        reason=reason,
        currency="USD",
        state=RefundState.ACCEPTED,
        lines=tuple(
            RefundLine(
                0,
                item,
                None,
                tuple((c, usd(a)) for c, a in amounts),
                quantity=quantity,
            )
            for item, amounts in wanted
        ),
        fingerprint="f",
        created_at=created_at,
        whole_order=whole_order,
    )


def amazon_refund(
    amazon_order_id: str,
    posted_at: datetime,
    *items: tuple[str, tuple[tuple[Component, str], ...]],
    tag: str = "SC",
) -> AmazonRefund:
    """A refund Amazon's Finances posted (made in Seller Central unless a feed's)."""
    return AmazonRefund(
        amazon_order_id,
        posted_at,
        "Amazon.com",
        tuple(
            AmazonRefundItem(
                item,
                None,
                f"{tag}-{item}-{posted_at:%d%H%M%S}",
                tuple((c, usd(a)) for c, a in amounts),
            )
            for item, amounts in items
        ),
    )
