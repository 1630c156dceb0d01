"""What the refund use cases need from outside: the store (intake's transaction, the views, the
batches into feeds, the outcomes) and Amazon's Finances (what was refunded on Amazon).

The feed itself goes through ``domain.feeds`` (its gateway and submission store)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

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

    def hold_for_approval(self, account_id: int) -> int:
        """held -> awaiting_approval, for the whole account; how many moved."""
        ...

    def approve(self, account_id: int, refund_ids: Sequence[int]) -> list[int]:
        """awaiting_approval -> accepted (due now); the ids that moved."""
        ...

    def reject(self, account_id: int, refund_ids: Sequence[int], reason: str) -> list[int]:
        """awaiting_approval -> failed with ``reason`` and its failed event; the ids moved."""
        ...
