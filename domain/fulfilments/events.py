"""What the platform hears about fulfilments: confirmed on Amazon, failed (Amazon refused it),
refused at the queue's door, and ship-by dates approaching or missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.fulfilments.model import (
    DeadlineAlert,
    DeadlineKind,
    Fulfilment,
    OpenOrder,
    ReadBack,
)
from domain.orders.events import order_key
from domain.shared import Rejected
from domain.shared.events import Event


@dataclass(frozen=True, slots=True)
class FulfilmentConfirmed(Event):
    """Amazon took the package; ``read_back`` is its order as read back (or why it was not)."""

    fulfilment: Fulfilment
    read_back: ReadBack

    @property
    def aggregate_key(self) -> str:
        return order_key(self.fulfilment.account_id, self.fulfilment.amazon_order_id)


@dataclass(frozen=True, slots=True)
class FulfilmentFailed(Event):
    """Amazon refused the package for good (or it used up its attempts): code and reason."""

    fulfilment: Fulfilment
    code: str
    message: str

    @property
    def aggregate_key(self) -> str:
        return order_key(self.fulfilment.account_id, self.fulfilment.amazon_order_id)


@dataclass(frozen=True, slots=True)
class FulfilmentRefused(Event):
    """A request from the queue that was refused (nobody waits there for an answer). Its
    fields are the request's as recorded (cut to the store's lengths); ``order_ref`` is the
    order id as given, which keys the event with that order's others. ``account_id`` is None
    when the account is unknown, and the event is then keyed by the request's digest."""

    account_ref: str | None
    account_id: int | None
    amazon_order_id: str | None
    platform_fulfilment_id: str | None
    rejected: Rejected
    request_digest: str
    order_ref: str | None

    @property
    def aggregate_key(self) -> str:
        if self.account_id is not None and self.order_ref is not None:
            return order_key(self.account_id, self.order_ref)
        return f"fulfilment-request:{self.request_digest[:32]}"


@dataclass(frozen=True, slots=True)
class ShipByEvent(Event):
    """An open order whose ship-by date is near or past, as checked at ``checked_at``."""

    order: OpenOrder
    checked_at: datetime

    @property
    def aggregate_key(self) -> str:
        return order_key(self.order.account_id, self.order.amazon_order_id)

    @property
    def minutes_left(self) -> int:
        """Whole minutes to the ship-by date, rounded down (negative once it has passed)."""
        return int((self.order.ship_by_latest - self.checked_at).total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class ShipByApproaching(ShipByEvent):
    pass


@dataclass(frozen=True, slots=True)
class ShipByMissed(ShipByEvent):
    pass


def ship_by_event(alert: DeadlineAlert, checked_at: datetime) -> ShipByEvent:
    if alert.kind is DeadlineKind.MISSED:
        return ShipByMissed(alert.order, checked_at)
    return ShipByApproaching(alert.order, checked_at)
