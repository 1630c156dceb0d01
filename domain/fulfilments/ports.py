"""What the fulfilment use cases need from outside: the store (intake's transaction, the state
changes under a lease, put-off read-backs, ship-by alerts) and Amazon's ``confirmShipment`` with
its read-back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain.fulfilments.model import (
    DeadlineAlert,
    Fulfilment,
    FulfilmentState,
    NewFulfilment,
    OpenOrder,
    OrderSnapshot,
    Package,
    PendingReadBack,
    ReadBack,
)
from domain.shared import Rejected


class IntakeUnit(Protocol):
    """One transaction of the store, committed when the block ends without an exception."""

    def account_id(self, ref: str) -> int | None:
        """The account by id or by name."""
        ...

    def lock_order(self, account_id: int, amazon_order_id: str) -> OrderSnapshot | None:
        """The order with its items and our quantities, locked until the transaction ends (two
        fulfilments of one order are checked one after the other, never both against the same
        remaining quantity)."""
        ...

    def fulfilment_by_platform_id(
        self, account_id: int, platform_fulfilment_id: str
    ) -> Fulfilment | None: ...

    def fulfilment(self, fulfilment_id: int) -> Fulfilment | None: ...

    def add(self, new: NewFulfilment) -> Fulfilment | None:
        """Store it with its lines; None when its platform_fulfilment_id was just taken."""
        ...

    def reopen(self, fulfilment_id: int, sweep_after: timedelta) -> Fulfilment | None:
        """failed -> accepted (attempts and failure cleared); None when it is not failed."""
        ...


class ShipmentGateway(Protocol):
    def confirm_shipment(
        self, account_id: int, amazon_order_id: str, marketplace_id: str, package: Package
    ) -> None:
        """Raise ``ShipmentRejected`` or ``AmazonUnavailable``."""
        ...

    def read_back(
        self, account_id: int, amazon_order_id: str, package_reference_id: str
    ) -> ReadBack:
        """Never waits and never raises for Amazon's errors: the confirmation is done; a
        failed read says so, and one that can succeed later says ``deferred``."""
        ...


class IntakeStore(Protocol):
    def intake(self) -> AbstractContextManager[IntakeUnit]: ...


class FulfilmentStore(IntakeStore, Protocol):
    def record_rejection(self, request: Mapping[str, Any], rejected: Rejected) -> bool:
        """Keep a request the queue brought and we refused, with a ``fulfilments/failed`` event
        in the same transaction; False when this very request was recorded before."""
        ...

    def claim(self, fulfilment_id: int, owner: str, lease: timedelta) -> Fulfilment | None:
        """Move it to sending under ``owner``'s lease (``can_claim``), attempts + 1, committed
        before returning; None when it is not ``owner``'s to send now. ``owner`` is one
        attempt's fresh token: a live lease is never entered, whoever asks."""
        ...

    def renew_lease(self, fulfilment_id: int, owner: str, lease: timedelta) -> bool:
        """Push ``owner``'s lease on to now + ``lease`` (the heartbeat, and the check right
        before a call to Amazon); False when it is no longer sending under ``owner``'s lease."""
        ...

    def let_go(self, fulfilment_id: int, owner: str) -> bool:
        """End ``owner``'s lease now, the state unchanged (an attempt that ends without an
        outcome: an error, a kill the task saw): the next claim, the task's own retry or the
        sweeper's, may take it at once. False when ``owner`` held nothing."""
        ...

    def release(self, fulfilment_id: int, owner: str, retry_in: timedelta, error: str) -> bool:
        """sending -> accepted, for the sweeper after ``retry_in``; only under ``owner``'s lease."""
        ...

    def record_confirmed(self, fulfilment: Fulfilment, owner: str, read_back: ReadBack) -> bool:
        """sending -> confirmed (the claimed ``fulfilment``) with Amazon's view and a
        ``fulfilments/confirmed`` event, in one transaction; only under ``owner``'s lease
        (False: the lease was lost). A ``deferred`` read-back is put down as pending, due after
        its ``retry_after``."""
        ...

    def record_failed(self, fulfilment_id: int, owner: str, code: str, message: str) -> bool:
        """sending -> failed with the reason and a ``fulfilments/failed`` event, in one
        transaction; only under ``owner``'s lease."""
        ...


class FulfilmentViews(Protocol):
    def get(self, fulfilment_id: int) -> Fulfilment | None: ...

    def list(
        self,
        *,
        account_id: int | None = None,
        amazon_order_id: str | None = None,
        state: FulfilmentState | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        after_id: int | None = None,
        limit: int = 50,
    ) -> list[Fulfilment]:
        """Oldest first by id, after ``after_id`` (a cursor), at most ``limit``; created (taken
        in) at ``created_since`` or later and before ``created_until``."""
        ...


class ReadBackStore(Protocol):
    def claim_read_back(
        self, lease: timedelta, skip_accounts: frozenset[int]
    ) -> PendingReadBack | None:
        """The pending read-back due longest ago (not of ``skip_accounts``), pushed ``lease``
        into the future so nobody else takes it meanwhile; None when none is due."""
        ...

    def defer_read_back(
        self, fulfilment_id: int, retry_in: timedelta, error: str | None, give_up: bool
    ) -> None:
        """Due again after ``retry_in``; ``give_up``: no longer pending, ``error`` kept."""
        ...

    def record_read_back(self, pending: PendingReadBack, read_back: ReadBack) -> None:
        """Amazon's view stored (the order like any synced copy), no longer pending."""
        ...


class DeadlineStore(Protocol):
    def deadline_lock(self) -> AbstractContextManager[bool]:
        """Held for the block; yields False when another check is running."""
        ...

    def open_orders_due_by(self, horizon: datetime) -> list[OpenOrder]:
        """Open merchant-fulfilled orders whose ship-by passes before ``horizon``."""
        ...

    def record_alerts(self, alerts: Sequence[DeadlineAlert], now: datetime) -> list[DeadlineAlert]:
        """Store each alert once per (order, kind, ship-by) with its event, in one
        transaction; returns the ones that were new."""
        ...
