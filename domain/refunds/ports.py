"""What the refund use cases need from outside: the store (intake's transaction, the views, the
batches into feeds, the outcomes) and Amazon's Finances (what was refunded on Amazon).

The feed itself goes through ``domain.feeds`` (its gateway and submission store)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain.feeds import FeedType
from domain.orders import AmazonOrder
from domain.refunds.model import AmazonRefund, Refund, RefundKind, RefundState
from domain.shared import Rejected


class RefundIntakeUnit(Protocol):
    """One transaction of the store, committed when the block ends without an exception."""

    def account_id(self, ref: str) -> int | None:
        """The account by id or by name."""
        ...

    def account_connected(self, account_id: int) -> bool:
        """False while the account is disconnected: what arrives is held, nothing is sent."""
        ...

    def lock_order(self, account_id: int, amazon_order_id: str) -> AmazonOrder | None:
        """The order with its lines and charges, locked until the transaction ends (two
        refunds of one order are checked one after the other, never against the same
        remainder)."""
        ...

    def refunded(self, account_id: int, amazon_order_id: str) -> Sequence[Refund]:
        """Every refund and cancellation of the order not failed: the store's own (in any
        state) and those recorded from Amazon."""
        ...

    def by_platform_id(
        self, account_id: int, kind: RefundKind, platform_id: str
    ) -> Refund | None: ...

    def refund(self, refund_id: int) -> Refund | None: ...

    def add(self, refund: Refund) -> Refund | None:
        """Store it (its ``id`` and line ids are given by the store: the ones passed are 0);
        None when its platform id was just taken."""
        ...

    def reopen(self, refund_id: int) -> Refund | None:
        """failed -> accepted (failure cleared); None when it is not failed."""
        ...


class RefundIntakeStore(Protocol):
    def intake(self) -> AbstractContextManager[RefundIntakeUnit]: ...


class RefundViews(Protocol):
    def get(self, refund_id: int) -> Refund | None: ...

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
        """Oldest first by id, after ``after_id`` (a cursor), at most ``limit``."""
        ...

    def record_rejection(
        self, kind: RefundKind, request: Mapping[str, Any], rejected: Rejected
    ) -> bool:
        """Keep a request the queue brought and we refused, with its ``refunds/failed`` or
        ``cancellations/failed`` event; False when this very request was recorded before."""
        ...


class FinancesGateway(Protocol):
    def refunds_of_order(self, account_id: int, amazon_order_id: str) -> tuple[AmazonRefund, ...]:
        """listFinancialEventsByOrderId's RefundEventList, every page. Raises the feeds'
        ``AmazonBusy`` when Amazon cannot answer now."""
        ...

    def refunds_posted(
        self, account_id: int, posted_after: datetime, posted_before: datetime
    ) -> tuple[AmazonRefund, ...]:
        """listFinancialEvents' RefundEventList for the window, every page."""
        ...


class ReconnectStore(Protocol):
    """What reconnecting an account reads and changes (``domain.refunds.reconnect``)."""

    def held(self, account_id: int) -> list[tuple[Refund, AmazonOrder | None]]:
        """The account's refunds and cancellations held or awaiting approval, oldest first,
        each with its order as synced now (None: not in the store)."""
        ...

    def fulfilments_waiting(self, account_id: int) -> int:
        """Accepted fulfilments not sent yet: they go once the account is connected."""
        ...

    def sync_watermark(self, account_id: int) -> datetime | None: ...

    def reconnected_at(self, account_id: int) -> datetime | None:
        """When the account was last reconnected (None: it was never disconnected)."""
        ...

    def hold_for_approval(self, account_id: int) -> int:
        """held -> awaiting_approval, for the whole account; how many moved."""
        ...

    def approve(self, account_id: int, refund_ids: Sequence[int]) -> list[int]:
        """awaiting_approval -> accepted (due now); the ids that moved."""
        ...

    def reject(self, account_id: int, refund_ids: Sequence[int], reason: str) -> list[int]:
        """awaiting_approval -> failed with ``reason`` and its failed event; the ids moved."""


# --- sending: refunds batched into feeds, and refunds made on Amazon -------------------------


@dataclass(frozen=True, slots=True)
class BatchKey:
    """What one feed holds: one seller's refunds of one marketplace and one feed type."""

    account_id: int
    marketplace_id: str
    feed_type: FeedType


@dataclass(frozen=True, slots=True)
class PendingBatch:
    key: BatchKey
    count: int  # accepted refunds due now
    waited: timedelta  # how long the one that became sendable first has waited since
    # A submission of this key is built but not created yet (waiting for createFeed's budget):
    # the refunds wait to go together in the next one instead of queueing feeds of their own.
    feed_waiting: bool = False


class RefundBatchUnit(Protocol):
    """One transaction of the batcher, committed when the block ends without an exception."""

    def take(self, key: BatchKey, refund_ids: Sequence[int]) -> list[Refund]:
        """Of these refunds, the ones still accepted, due and of ``key``, locked until the
        transaction ends (those another transaction holds are skipped), in id order."""
        ...

    def add_submission(self, key: BatchKey, document: bytes, refunds: Sequence[Refund]) -> int:
        """A built submission carrying the document, and the (taken) refunds in_feed in it:
        its id."""
        ...


class RefundSendingStore(Protocol):
    def pending(self) -> list[PendingBatch]:
        """Per batch key of connected accounts: how many accepted refunds are due."""
        ...

    def candidates(self, key: BatchKey, limit: int, skip: Collection[int] = ()) -> list[Refund]:
        """Accepted refunds of ``key`` due now, the longest waiting first, but ``skip``."""
        ...

    def batch(self) -> AbstractContextManager[RefundBatchUnit]: ...


class AmazonRefundUnit(Protocol):
    """One transaction of recording what Amazon refunded, under the order's lock."""

    def lock_order(self, account_id: int, amazon_order_id: str) -> AmazonOrder | None:
        """The order with its lines and charges, locked until the transaction ends (intake
        locks it too); None when the store has not synced it."""
        ...

    def marketplaces(self, account_id: int) -> tuple[str, ...]:
        """The account's marketplaces (for a refund of an order the store has not synced)."""
        ...

    def refunded(self, account_id: int, amazon_order_id: str) -> Sequence[Refund]:
        """Every refund and cancellation of the order not failed, of both sources."""
        ...

    def recorded_keys(self, account_id: int, keys: Sequence[str]) -> frozenset[str]:
        """Which of these ``AmazonRefund.key`` are known already: recorded from Amazon, or
        paired with a store refund."""
        ...

    def paired(self, account_id: int, amazon_order_id: str) -> frozenset[int]:
        """The order's store refunds paired with a refund Amazon posted."""
        ...

    def pair(self, refund_id: int, amazon_key: str) -> bool:
        """Write down that the Amazon refund ``amazon_key`` is this store refund's (its
        ``amazon_key``); False when either is paired already."""
        ...

    def record_from_amazon(self, refund: Refund, found: AmazonRefund) -> Refund | None:
        """Store a refund made on Amazon (source amazon, confirmed, ``amazon_key`` =
        ``found.key``) with its ``RefundRecordedFromAmazon`` event; None when that key is
        recorded already."""
        ...

    def fail(self, refund_id: int, code: str, message: str) -> Refund | None:
        """accepted -> failed with the reason and its event (``RefundFailed`` or
        ``CancellationFailed``); None when it is not accepted."""
        ...


class AmazonRefundStore(Protocol):
    def recording(self) -> AbstractContextManager[AmazonRefundUnit]: ...

    def finance_cursor(self, account_id: int) -> datetime | None:
        """Where the sweep of Amazon's refunds stands (``PostedAfter``); None: never swept."""
        ...

    def save_finance_cursor(
        self, account_id: int, posted_after: datetime, covered_since: datetime | None = None
    ) -> None:
        """Move the watermark forward; ``covered_since`` is kept from the first sweep."""
        ...

    def finance_coverage(self, account_id: int) -> tuple[datetime, datetime] | None:
        """(covered since, watermark): every refund Amazon posted in between is in the store;
        None: never swept."""
        ...

    def sweep_accounts(self) -> list[int]:
        """The accounts whose refunds on Amazon are swept: the connected ones."""
        ...
