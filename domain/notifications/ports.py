"""What the notification use cases need from outside: the store (``NotificationStore``, which
takes a notification in and keeps the refreshes it asks for) and Amazon's ``getOrder``
(``OrderReader``), with the values that cross them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from domain.notifications.model import Effect, Notification
from domain.orders import AmazonOrder
from domain.shared import DomainError


class ReadLater(DomainError):
    """Amazon cannot answer now (the seller's getOrder budget is spent, a 429, a 5xx, the
    network): the refresh stays pending and is read ``retry_after`` later."""

    def __init__(self, reason: str, retry_after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class OrderUnreadable(DomainError):
    """Amazon refused the read for good (404, 400, an answer that does not translate): the
    refresh is dropped with the reason; the next sync sets the order aside if it is odd."""


class Disposition(StrEnum):
    TAKEN = "taken"  # first delivery: its effect is committed
    DUPLICATE = "duplicate"  # its NotificationId was taken in before: nothing done
    UNROUTED = "unrouted"  # it names no account of ours: nothing done, the reason says why


@dataclass(frozen=True, slots=True)
class TakenIn:
    """What taking a notification in committed, and what to queue now that it is committed."""

    disposition: Disposition
    reason: str | None = None
    refresh_accounts: tuple[int, ...] = ()
    woken_submissions: tuple[int, ...] = ()
    payout_accounts: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimedRefresh:
    """A pending refresh leased to one drain; ``version`` counts its notifications, so a newer
    one that arrives while the order is read keeps the refresh pending."""

    account_id: int
    amazon_order_id: str
    version: int


class NotificationStore(Protocol):
    def take_in(self, notification: Notification, effect: Effect) -> TakenIn:
        """In one transaction: note the NotificationId (a duplicate stops here) and commit
        ``effect`` (refresh rows, a submission made due); returns what to queue."""
        ...

    def pending_refreshes(self, account_id: int) -> int: ...

    def defer_refreshes(self, account_id: int) -> int:
        """Leave every pending refresh of the account to the next sync window; how many."""
        ...

    def claim_refresh(self, account_id: int, lease: timedelta) -> ClaimedRefresh | None: ...

    def release_refresh(self, claim: ClaimedRefresh, error: str | None) -> None:
        """Back to pending, unleased (Amazon could not answer now)."""
        ...

    def drop_refresh(self, claim: ClaimedRefresh, reason: str) -> None: ...

    def store_refreshed(self, claim: ClaimedRefresh, order: AmazonOrder) -> bool:
        """The order through the sync's own upsert (events and outbox alike), and the refresh
        done unless a newer notification came meanwhile; True when the order changed."""
        ...


class OrderReader(Protocol):
    def get_order(self, account_id: int, amazon_order_id: str) -> AmazonOrder:
        """Raises ``ReadLater`` or ``OrderUnreadable``."""
        ...


@dataclass
class RefreshReport:
    read: int = 0
    changed: int = 0
    dropped: int = 0
    deferred: int = 0
    retry_in: timedelta | None = None
    waits_on: str | None = None  # why the drain comes back later (Amazon's answer, not a guess)
    problems: list[str] = field(default_factory=list)
