"""The fulfilment and what it is made of: the order as the store knows it, the state machine
and its lease, the package Amazon receives, Amazon's view read back, and intake's results.

A fulfilment is one package (one tracking number). States (``FulfilmentState``)::

    accepted ──claim (lease)──▶ sending ──▶ confirmed
       ▲  ▲                      │  │
       │  └──── transient ───────┘  └──▶ failed (code, reason) ──operator retry──▶ accepted
       └── a lease that ran out (a dead worker) lets the next claim take 'sending' over

``TRANSITIONS`` is that drawing as data; ``check_transition`` and ``can_claim`` apply it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.fulfilments.carriers import OTHER_CARRIER
from domain.fulfilments.commands import RequestFulfilment
from domain.fulfilments.errors import IllegalTransition
from domain.orders import AmazonOrder

# --- the order as the store knows it --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemSnapshot:
    order_item_id: str
    sku: str | None
    quantity_ordered: int
    quantity_shipped: int  # Amazon's count, as last synced or read back
    quantity_confirmed: int = 0  # ours, confirmed on Amazon
    quantity_pending: int = 0  # ours, accepted or being sent
    cancel_requested: bool = False

    @property
    def quantity_remaining(self) -> int:
        """What may still be fulfilled.

        Amazon's shipped count includes our confirmed packages once it has been read back, and
        not before, so the larger of the two is shipped for certain (a package shipped from
        Seller Central only shows in Amazon's count). Ours in flight are in neither yet.
        """
        shipped = max(self.quantity_shipped, self.quantity_confirmed)
        return max(self.quantity_ordered - shipped - self.quantity_pending, 0)


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    order_id: int  # the store's row id
    account_id: int
    amazon_order_id: str
    marketplace_id: str
    status: str
    fulfilled_by: str
    purchased_at: datetime
    ship_by_latest: datetime | None
    buyer_cancel_requested: bool
    buyer_cancel_reason: str | None
    items: tuple[ItemSnapshot, ...]

    @property
    def quantity_remaining(self) -> int:
        return sum(item.quantity_remaining for item in self.items)


# --- the fulfilment and its state machine ---------------------------------------------------


class FulfilmentState(StrEnum):
    ACCEPTED = "accepted"
    SENDING = "sending"
    CONFIRMED = "confirmed"
    FAILED = "failed"


TRANSITIONS: Mapping[FulfilmentState, frozenset[FulfilmentState]] = {
    FulfilmentState.ACCEPTED: frozenset({FulfilmentState.SENDING}),
    # sending -> sending: a lease that ran out is taken over by the next claim.
    FulfilmentState.SENDING: frozenset(
        {
            FulfilmentState.SENDING,
            FulfilmentState.ACCEPTED,
            FulfilmentState.CONFIRMED,
            FulfilmentState.FAILED,
        }
    ),
    FulfilmentState.FAILED: frozenset({FulfilmentState.ACCEPTED}),
    FulfilmentState.CONFIRMED: frozenset(),
}


def check_transition(current: FulfilmentState, new: FulfilmentState) -> None:
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"a fulfilment cannot go from {current} to {new}")


def can_claim(state: FulfilmentState, lease_until: datetime | None, now: datetime) -> bool:
    """May a new attempt (its own fresh token) start sending? An accepted fulfilment, or one
    whose lease ran out (its worker died or stalled). A live lease is never entered, not even
    by a copy of the same message: a redelivered copy carries the same task id as the first,
    which may still be running (paused past the broker's visibility timeout), so the lease is
    held by an attempt, never by a task id."""
    if state is FulfilmentState.ACCEPTED:
        return True
    if state is FulfilmentState.SENDING:
        return lease_until is None or lease_until <= now
    return False


@dataclass(frozen=True, slots=True)
class PackageLine:
    order_item_id: str
    quantity: int
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class Fulfilment:
    id: int
    account_id: int
    order_id: int
    amazon_order_id: str
    marketplace_id: str
    platform_fulfilment_id: str
    state: FulfilmentState
    shipped_at: datetime
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str
    lines: tuple[PackageLine, ...]
    fingerprint: str
    attempts: int = 0
    ship_by_latest: datetime | None = None
    last_error: str | None = None
    failure_code: str | None = None
    failure_reason: str | None = None

    @property
    def package_reference_id(self) -> str:
        """Amazon wants a positive number, unique per order: our bigint id is one for good, so a
        resend of this fulfilment edits its package and never adds another."""
        return str(self.id)


@dataclass(frozen=True, slots=True)
class NewFulfilment:
    order: OrderSnapshot
    command: RequestFulfilment
    lines: tuple[PackageLine, ...]
    # When the sweeper sends it if the message queued after commit got lost.
    sweep_after: timedelta


# --- the results of intake ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    fulfilment: Fulfilment
    # True: this call put it in 'accepted' (the caller queues its confirmation). False: the
    # same fulfilment was accepted before (a replay).
    created: bool


# --- what Amazon receives, and its view read back -------------------------------------------


@dataclass(frozen=True, slots=True)
class Package:
    """What ``confirmShipment`` receives for one fulfilment (Amazon's ``packageDetail``)."""

    package_reference_id: str
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str
    ship_date: datetime
    lines: tuple[PackageLine, ...]


def package_for(fulfilment: Fulfilment) -> Package:
    return Package(
        package_reference_id=fulfilment.package_reference_id,
        carrier_code=fulfilment.carrier_code,
        # Amazon reads carrierName only with carrierCode "Other".
        carrier_name=fulfilment.carrier_name if fulfilment.carrier_code == OTHER_CARRIER else None,
        shipping_method=fulfilment.shipping_method,
        tracking_number=fulfilment.tracking_number,
        ship_date=fulfilment.shipped_at,
        lines=fulfilment.lines,
    )


@dataclass(frozen=True, slots=True)
class ReadBack:
    """The order as Amazon has it after the confirmation.

    ``deferred``: not read now, and worth reading later: the seller's ``getOrder`` budget had
    no token free (0.5/s against ``confirmShipment``'s 2/s: waiting for one would hold the
    confirmations behind it) or Amazon was briefly unavailable. ``retry_after`` is when to come
    back, when known."""

    order: AmazonOrder | None = None  # None: it could not be read (``error`` says why)
    package_status: str | None = None  # Amazon's status of our package, when listed
    package_listed: bool = False
    error: str | None = None
    deferred: bool = False
    retry_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class PendingReadBack:
    """A confirmed fulfilment whose read-back was put off."""

    fulfilment_id: int
    account_id: int
    amazon_order_id: str
    confirmed_at: datetime

    @property
    def package_reference_id(self) -> str:
        return str(self.fulfilment_id)  # as ``Fulfilment.package_reference_id``


# --- ship-by deadlines ----------------------------------------------------------------------


class DeadlineKind(StrEnum):
    APPROACHING = "approaching"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """A merchant-fulfilled order Amazon still counts as (partly) unshipped."""

    order_id: int
    account_id: int
    amazon_order_id: str
    status: str
    ship_by_latest: datetime
    items: tuple[ItemSnapshot, ...]

    @property
    def quantity_remaining(self) -> int:
        return sum(item.quantity_remaining for item in self.items)


@dataclass(frozen=True, slots=True)
class DeadlineAlert:
    order: OpenOrder
    kind: DeadlineKind
