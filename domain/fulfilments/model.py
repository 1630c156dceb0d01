"""Fulfilments: a shipment made in the store, confirmed on Amazon with the same date, once.

A fulfilment is one package (one tracking number). The platform asks for it through any door
(HTTP, queue, CLI); all of them call ``accept_fulfilment``, which checks it against the order as
the store knows it and stores it before anything goes to Amazon. ``confirm_fulfilment`` then sends
it with ``confirmShipment`` under a lease, with the fulfilment's id as ``packageReferenceId``: a
resend (a lost response, a crash, a duplicate message) edits the same package on Amazon and never
adds a second one. The ship date sent is always the store's ``shipped_at``, never "now".

States (``FulfilmentState``)::

    accepted ──claim (lease)──▶ sending ──▶ confirmed
       ▲  ▲                      │  │
       │  └──── transient ───────┘  └──▶ failed (code, reason) ──operator retry──▶ accepted
       └── a lease that ran out (a dead worker) lets the next claim take 'sending' over

Errors::

    FulfilmentError
     ├── InvalidRequest        the request itself is malformed (field errors)
     ├── IllegalTransition     a state change the machine does not allow
     ├── ShipmentRejected      Amazon refused the package: permanent (code, message)
     └── AmazonUnavailable     try again later (throttled, 5xx, network); ``retry_after``
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from domain.orders import AmazonOrder, FulfilledBy, OrderStatus
from domain.shared import Clock

# --- Amazon's carrier codes -----------------------------------------------------------------

# The common values of ``CarrierCode`` in Amazon's amzn-base.xsd (the list confirmShipment and
# the fulfilment feed accept). Amazon requires a carrier code in every marketplace; a carrier
# that is not listed goes as "Other" with its name in ``carrierName``.
OTHER_CARRIER = "Other"
AMAZON_CARRIER_CODES: tuple[str, ...] = (
    "USPS",
    "UPS",
    "UPSMI",
    "UPS Mail Innovations",
    "FedEx",
    "FedEx SmartPost",
    "DHL",
    "DHL eCommerce",
    "DHL Global Mail",
    "Fastway",
    "GLS",
    "GO!",
    "Hermes Logistik Gruppe",
    "Hermes",
    "Royal Mail",
    "Parcelforce",
    "City Link",
    "TNT",
    "Target",
    "SagawaExpress",
    "NipponExpress",
    "YamatoTransport",
    "DPD",
    "Canada Post",
    "Purolator",
    "Australia Post",
    "Correos",
    "Poste Italiane",
    "SDA",
    "Deutsche Post",
    "Chronopost",
    "Colissimo",
    "La Poste",
    "PostNL",
    "Bpost",
    "India Post",
    "Blue Dart",
    "BlueDart",
    "Delhivery",
    "DTDC",
    "OnTrac",
    "Lasership",
    "Newgistics",
    "OSM",
    "Streamlite",
    "Blue Package",
    "Yodel",
    "Aramex",
    OTHER_CARRIER,
)


def _carrier_key(value: str) -> str:
    return " ".join(value.split()).casefold()


_CARRIERS = {_carrier_key(code): code for code in AMAZON_CARRIER_CODES}


def amazon_carrier_code(value: str) -> str | None:
    """Amazon's spelling of a carrier code given in any case ("ups" -> "UPS"), or None."""
    return _CARRIERS.get(_carrier_key(value))


# --- the request ----------------------------------------------------------------------------

MESSAGE_VERSION = 1
MESSAGE_TYPE = "fulfilment.requested"
# Clocks of the store and ours differ a little; a ship time this far ahead is still "now".
SHIP_TIME_SKEW = timedelta(minutes=5)
_TEXT_LIMITS = {
    "account": 100,
    "amazon_order_id": 40,
    "platform_fulfilment_id": 100,
    "carrier_code": 60,
    "carrier_name": 100,
    "shipping_method": 100,
    "tracking_number": 100,
}
REQUEST_FIELDS = frozenset({*_TEXT_LIMITS, "shipped_at", "lines", "cancellation_request_reviewed"})


class FulfilmentError(Exception):
    """Base of what this module raises."""


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    reason: str


class InvalidRequest(FulfilmentError):
    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = tuple(errors)


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One line of a request: an order item named by Amazon's id or by the seller's SKU."""

    quantity: int
    order_item_id: str | None = None
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class RequestFulfilment:
    """The command: ship these lines of this order in one package (no lines: all that remains)."""

    account: str
    amazon_order_id: str
    platform_fulfilment_id: str
    shipped_at: datetime
    carrier_code: str  # Amazon's spelling; "Other" when carrier_name names the carrier
    tracking_number: str
    carrier_name: str | None = None
    shipping_method: str | None = None
    lines: tuple[LineRequest, ...] = ()
    cancellation_request_reviewed: bool = False

    def fingerprint(self) -> str:
        """Equal fingerprints mean the same fulfilment, however it was spelled or which door
        it came through (the account is left out: the fulfilment's key already holds it)."""
        data = {
            "amazon_order_id": self.amazon_order_id,
            "platform_fulfilment_id": self.platform_fulfilment_id,
            "shipped_at": self.shipped_at.astimezone(UTC).isoformat(),
            "carrier_code": self.carrier_code,
            "carrier_name": self.carrier_name,
            "shipping_method": self.shipping_method,
            "tracking_number": self.tracking_number,
            "lines": [[line.order_item_id, line.sku, line.quantity] for line in self.lines],
            "cancellation_request_reviewed": self.cancellation_request_reviewed,
        }
        encoded = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()


def _text(
    data: Mapping[str, Any], name: str, errors: list[FieldError], *, required: bool, why: str = ""
) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(FieldError(name, f"required{': ' + why if why else ''}"))
        return None
    if not isinstance(value, str):
        errors.append(FieldError(name, "must be a string"))
        return None
    value = value.strip()
    if len(value) > _TEXT_LIMITS[name]:
        errors.append(FieldError(name, f"longer than {_TEXT_LIMITS[name]} characters"))
        return None
    return value


def parse_time(value: Any, name: str, errors: list[FieldError]) -> datetime | None:
    """An ISO 8601 time with its zone, as UTC (a time without a zone is ambiguous: refused)."""
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(name, "required: an ISO 8601 time with its zone"))
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError(name, f"{value!r} is not an ISO 8601 time"))
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        errors.append(FieldError(name, f"{value!r} has no time zone (add Z or +hh:mm)"))
        return None
    return parsed.astimezone(UTC)


def _lines(value: Any, errors: list[FieldError]) -> tuple[LineRequest, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.append(FieldError("lines", "must be a list of {order_item_id or sku, quantity}"))
        return ()
    lines: list[LineRequest] = []
    for index, raw in enumerate(value):
        where = f"lines[{index}]"
        if not isinstance(raw, Mapping):
            errors.append(FieldError(where, "must be an object {order_item_id or sku, quantity}"))
            continue
        unknown = sorted(set(raw) - {"order_item_id", "sku", "quantity"})
        errors.extend(FieldError(f"{where}.{key}", "unknown field") for key in unknown)
        item_id, sku = raw.get("order_item_id"), raw.get("sku")
        if (item_id is None) == (sku is None):
            errors.append(FieldError(where, "name the item by order_item_id or by sku (one)"))
            continue
        name = "order_item_id" if item_id is not None else "sku"
        ref = item_id if item_id is not None else sku
        if not isinstance(ref, str) or not ref.strip() or len(ref) > 100:
            errors.append(FieldError(f"{where}.{name}", "must be a non-empty string"))
            continue
        quantity = raw.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            errors.append(FieldError(f"{where}.quantity", "must be a whole number of at least 1"))
            continue
        if name == "order_item_id":
            lines.append(LineRequest(quantity=quantity, order_item_id=ref.strip()))
        else:
            lines.append(LineRequest(quantity=quantity, sku=ref.strip()))
    return tuple(lines)


def _carrier(
    code: str | None, name: str | None, errors: list[FieldError]
) -> tuple[str, str | None]:
    if code is None:
        return "", name
    known = amazon_carrier_code(code)
    if known == OTHER_CARRIER and name is None:
        errors.append(FieldError("carrier_name", "required when carrier_code is 'Other'"))
    elif known is None and name is None:
        errors.append(
            FieldError(
                "carrier_code",
                f"{code!r} is not a carrier code Amazon knows: use one of Amazon's codes "
                "(UPS, USPS, FedEx, DHL, Royal Mail ...), or give carrier_name too "
                "(it goes to Amazon as 'Other' with that name)",
            )
        )
    return (known or OTHER_CARRIER), name


def parse_request(data: Any) -> RequestFulfilment:
    """The command from a request's JSON (the same for every door), or ``InvalidRequest``."""
    if not isinstance(data, Mapping):
        raise InvalidRequest([FieldError("body", "must be a JSON object")])
    errors = [FieldError(key, "unknown field") for key in sorted(set(data) - REQUEST_FIELDS)]
    raw_account = data.get("account")
    if isinstance(raw_account, int) and not isinstance(raw_account, bool):
        account: str | None = str(raw_account)
    else:
        account = _text(data, "account", errors, required=True, why="the seller account")
    order_id = _text(data, "amazon_order_id", errors, required=True)
    platform_id = _text(data, "platform_fulfilment_id", errors, required=True)
    shipped_at = parse_time(data.get("shipped_at"), "shipped_at", errors)
    code = _text(
        data, "carrier_code", errors, required=True, why="Amazon's carrier code, or 'Other'"
    )
    name = _text(data, "carrier_name", errors, required=False)
    method = _text(data, "shipping_method", errors, required=False)
    tracking = _text(
        data, "tracking_number", errors, required=True, why="the carrier's tracking number"
    )
    lines = _lines(data.get("lines"), errors)
    carrier_code, carrier_name = _carrier(code, name, errors)
    reviewed = data.get("cancellation_request_reviewed", False)
    if not isinstance(reviewed, bool):
        errors.append(FieldError("cancellation_request_reviewed", "must be true or false"))
    if errors:
        raise InvalidRequest(errors)
    assert account and order_id and platform_id and shipped_at and tracking
    return RequestFulfilment(
        account=account,
        amazon_order_id=order_id,
        platform_fulfilment_id=platform_id,
        shipped_at=shipped_at,
        carrier_code=carrier_code,
        carrier_name=carrier_name,
        shipping_method=method,
        tracking_number=tracking,
        lines=lines,
        cancellation_request_reviewed=bool(reviewed),
    )


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


# --- the fulfilment ---------------------------------------------------------------------------


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


class IllegalTransition(FulfilmentError):
    pass


def check_transition(current: FulfilmentState, new: FulfilmentState) -> None:
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"a fulfilment cannot go from {current} to {new}")


def can_claim(
    state: FulfilmentState,
    lease_owner: str | None,
    lease_until: datetime | None,
    owner: str,
    now: datetime,
) -> bool:
    """May ``owner`` start sending? An accepted fulfilment, or one whose lease ran out (its
    worker died), or one ``owner`` itself holds (a redelivered message keeps its task id)."""
    if state is FulfilmentState.ACCEPTED:
        return True
    if state is FulfilmentState.SENDING:
        return lease_owner == owner or lease_until is None or lease_until <= now
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


@dataclass(frozen=True, slots=True)
class Accepted:
    fulfilment: Fulfilment
    # True: this call put it in 'accepted' (the caller queues its confirmation). False: the
    # same fulfilment was accepted before (a replay).
    created: bool


@dataclass(frozen=True, slots=True)
class Rejected:
    errors: tuple[FieldError, ...]
    conflict: bool = False  # the platform_fulfilment_id is taken by a different fulfilment

    @property
    def message(self) -> str:
        return "; ".join(f"{e.field}: {e.reason}" for e in self.errors)


def check_fulfilment(
    command: RequestFulfilment, order: OrderSnapshot, now: datetime
) -> tuple[tuple[PackageLine, ...], list[FieldError]]:
    """The package's lines (items by Amazon's order item id), or why it cannot be accepted."""
    errors: list[FieldError] = []
    if order.fulfilled_by == FulfilledBy.AMAZON:
        return (), [
            FieldError("amazon_order_id", "fulfilled by Amazon: it cannot be fulfilled here")
        ]
    if order.status == OrderStatus.CANCELLED:
        return (), [FieldError("amazon_order_id", "the order is cancelled on Amazon")]
    if order.status in (OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY):
        return (), [
            FieldError(
                "amazon_order_id",
                f"the order is {order.status} on Amazon: it cannot ship until Amazon releases it",
            )
        ]
    if order.status == OrderStatus.UNFULFILLABLE:
        return (), [FieldError("amazon_order_id", "Amazon marks the order unfulfillable")]
    if order.buyer_cancel_requested and not command.cancellation_request_reviewed:
        reason = f" ({order.buyer_cancel_reason})" if order.buyer_cancel_reason else ""
        errors.append(
            FieldError(
                "cancellation_request_reviewed",
                f"the buyer asked to cancel this order{reason}: check it in Seller Central, "
                "then send cancellation_request_reviewed: true to ship anyway",
            )
        )
    if command.shipped_at > now + SHIP_TIME_SKEW:
        errors.append(FieldError("shipped_at", "is in the future"))
    elif command.shipped_at < order.purchased_at:
        errors.append(
            FieldError(
                "shipped_at",
                f"is before the order was purchased ({order.purchased_at.isoformat()})",
            )
        )
    lines, line_errors = _package_lines(command, order)
    return lines, errors + line_errors


def _package_lines(
    command: RequestFulfilment, order: OrderSnapshot
) -> tuple[tuple[PackageLine, ...], list[FieldError]]:
    if not command.lines:
        everything = tuple(
            PackageLine(item.order_item_id, item.quantity_remaining, item.sku)
            for item in order.items
            if item.quantity_remaining > 0
        )
        if not everything:
            return (), [FieldError("lines", "nothing remains unshipped on this order")]
        return everything, []
    errors: list[FieldError] = []
    by_id = {item.order_item_id: item for item in order.items}
    wanted: dict[str, int] = {}
    first_line: dict[str, int] = {}
    for index, line in enumerate(command.lines):
        if line.order_item_id is not None:
            item = by_id.get(line.order_item_id)
            if item is None:
                errors.append(
                    FieldError(f"lines[{index}].order_item_id", "not an item of this order")
                )
                continue
        else:
            matches = [i for i in order.items if i.sku is not None and i.sku == line.sku]
            if not matches:
                errors.append(FieldError(f"lines[{index}].sku", "no item of this order has it"))
                continue
            if len(matches) > 1:
                errors.append(
                    FieldError(
                        f"lines[{index}].sku",
                        "several items of this order have it: name the order_item_id",
                    )
                )
                continue
            item = matches[0]
        wanted[item.order_item_id] = wanted.get(item.order_item_id, 0) + line.quantity
        first_line.setdefault(item.order_item_id, index)
    for item_id, quantity in wanted.items():
        item = by_id[item_id]
        if quantity > item.quantity_remaining:
            shipped = max(item.quantity_shipped, item.quantity_confirmed)
            errors.append(
                FieldError(
                    f"lines[{first_line[item_id]}].quantity",
                    f"more than remains unshipped: {quantity} asked, {item.quantity_remaining} "
                    f"of {item.quantity_ordered} remain ({shipped} shipped, "
                    f"{item.quantity_pending} in earlier fulfilments)",
                )
            )
    lines = tuple(
        PackageLine(item.order_item_id, wanted[item.order_item_id], item.sku)
        for item in order.items
        if item.order_item_id in wanted
    )
    return lines, errors


# --- ports ------------------------------------------------------------------------------------


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


class ShipmentRejected(FulfilmentError):
    """Amazon refused the package; sending it again will fail the same way."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AmazonUnavailable(FulfilmentError):
    """Amazon could not take it now; ``retry_after`` is how long to wait when known."""

    def __init__(self, reason: str, retry_after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


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
        before returning; None when it is not ``owner``'s to send now."""
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


# --- use cases --------------------------------------------------------------------------------

# A fulfilment stored but whose queued message got lost is sent by the sweeper after this.
SWEEP_AFTER = timedelta(minutes=2)
# After a transient failure the task retries itself; the sweeper takes over after this.
SWEEP_AFTER_TRANSIENT = timedelta(minutes=10)
# Each claim counts as an attempt; past this the fulfilment fails (a poison message, a worker
# killed on every try) and waits for an operator instead of looping for ever.
MAX_ATTEMPTS = 20


def _same_or_conflict(existing: Fulfilment, command: RequestFulfilment) -> Accepted | Rejected:
    if existing.fingerprint == command.fingerprint():
        return Accepted(existing, created=False)
    return Rejected(
        (
            FieldError(
                "platform_fulfilment_id",
                f"already used by fulfilment {existing.id} with a different body",
            ),
        ),
        conflict=True,
    )


def accept_fulfilment(
    command: RequestFulfilment, store: IntakeStore, clock: Clock
) -> Accepted | Rejected:
    """Check the fulfilment and store it, or say why not. Safe to run twice: the same
    fulfilment again is the first one (``created`` False); a different one under the same
    ``platform_fulfilment_id`` is a conflict. Nothing is sent to Amazon here: the caller queues
    the confirmation after this returns (after the commit)."""
    with store.intake() as unit:
        account_id = unit.account_id(command.account)
        if account_id is None:
            return Rejected((FieldError("account", f"no seller account {command.account!r}"),))
        order = unit.lock_order(account_id, command.amazon_order_id)
        existing = unit.fulfilment_by_platform_id(account_id, command.platform_fulfilment_id)
        if existing is not None:
            return _same_or_conflict(existing, command)
        if order is None:
            return Rejected(
                (
                    FieldError(
                        "amazon_order_id",
                        "unknown order: the store has no such order for this account "
                        "(not synced yet, or another account's)",
                    ),
                )
            )
        lines, errors = check_fulfilment(command, order, clock.now())
        if errors:
            return Rejected(tuple(errors))
        added = unit.add(NewFulfilment(order, command, lines, SWEEP_AFTER))
        if added is None:  # a concurrent request took the platform_fulfilment_id first
            existing = unit.fulfilment_by_platform_id(account_id, command.platform_fulfilment_id)
            assert existing is not None
            return _same_or_conflict(existing, command)
        return Accepted(added, created=True)


def accept_fulfilment_message(
    message: Mapping[str, Any], store: FulfilmentStore, clock: Clock
) -> Accepted | Rejected:
    """The queue's door: the versioned message, checked like any request. Nobody waits for an
    answer on a queue, so a refusal is recorded (once) with a ``fulfilments/failed`` event."""
    result = _accept_message(message, store, clock)
    if isinstance(result, Rejected):
        store.record_rejection(
            message if isinstance(message, Mapping) else {"message": message}, result
        )
    return result


def _accept_message(
    message: Mapping[str, Any], store: FulfilmentStore, clock: Clock
) -> Accepted | Rejected:
    if not isinstance(message, Mapping):
        return Rejected((FieldError("message", "must be a JSON object"),))
    version, kind = message.get("version"), message.get("type")
    if version != MESSAGE_VERSION:
        return Rejected(
            (FieldError("version", f"{version!r} is not a version this channel reads (1)"),)
        )
    if kind != MESSAGE_TYPE:
        return Rejected((FieldError("type", f"must be {MESSAGE_TYPE!r}"),))
    body = {k: v for k, v in message.items() if k not in ("version", "type")}
    try:
        command = parse_request(body)
    except InvalidRequest as exc:
        return Rejected(exc.errors)
    return accept_fulfilment(command, store, clock)


def retry_fulfilment(
    fulfilment_id: int,
    store: IntakeStore,
    clock: Clock,
    *,
    cancellation_request_reviewed: bool = False,
) -> Accepted | Rejected:
    """An operator's retry of a failed fulfilment (after fixing the cause): back to accepted,
    if the order still takes it (a failed one holds no quantity meanwhile, and a buyer may have
    asked to cancel since). ``created`` is True when this call reopened it."""
    with store.intake() as unit:
        fulfilment = unit.fulfilment(fulfilment_id)
        if fulfilment is None:
            return Rejected((FieldError("fulfilment_id", f"no fulfilment {fulfilment_id}"),))
        if fulfilment.state is not FulfilmentState.FAILED:
            return Rejected(
                (
                    FieldError(
                        "fulfilment_id",
                        f"fulfilment {fulfilment_id} is {fulfilment.state}: only a failed one "
                        "can be retried",
                    ),
                )
            )
        order = unit.lock_order(fulfilment.account_id, fulfilment.amazon_order_id)
        if order is None:  # orders are never deleted; kept for completeness
            return Rejected((FieldError("amazon_order_id", "the order is gone from the store"),))
        command = RequestFulfilment(
            account=str(fulfilment.account_id),
            amazon_order_id=fulfilment.amazon_order_id,
            platform_fulfilment_id=fulfilment.platform_fulfilment_id,
            shipped_at=fulfilment.shipped_at,
            carrier_code=fulfilment.carrier_code,
            carrier_name=fulfilment.carrier_name,
            shipping_method=fulfilment.shipping_method,
            tracking_number=fulfilment.tracking_number,
            lines=tuple(
                LineRequest(line.quantity, order_item_id=line.order_item_id)
                for line in fulfilment.lines
            ),
            cancellation_request_reviewed=cancellation_request_reviewed,
        )
        _, errors = check_fulfilment(command, order, clock.now())
        if errors:
            return Rejected(tuple(errors))
        reopened = unit.reopen(fulfilment_id, SWEEP_AFTER)
        if reopened is None:  # someone else retried it a moment ago
            current = unit.fulfilment(fulfilment_id)
            assert current is not None
            return Accepted(current, created=False)
        return Accepted(reopened, created=True)


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    FAILED = "failed"
    DEFERRED = "deferred"  # Amazon asked for a long wait: the sweeper sends it later
    SKIPPED = "skipped"  # not ours to send now (done, failed, or another worker holds it)
    LEASE_LOST = "lease_lost"  # another worker took it over while we were sending


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    fulfilment_id: int
    outcome: Outcome
    detail: str | None = None


def confirm_fulfilment(
    fulfilment_id: int,
    *,
    store: FulfilmentStore,
    amazon: ShipmentGateway,
    owner: str,
    lease: timedelta,
    longest_wait: timedelta,
) -> ConfirmResult:
    """Send one fulfilment to Amazon and record the outcome. Safe to run twice and at once:
    only the lease holder sends, a confirmed one is never sent again, and a resend is an edit of
    the same package. A transient failure raises ``AmazonUnavailable`` after giving the
    fulfilment back (the caller retries); a wait longer than ``longest_wait`` is left to the
    sweeper."""
    fulfilment = store.claim(fulfilment_id, owner, lease)
    if fulfilment is None:
        return ConfirmResult(fulfilment_id, Outcome.SKIPPED)
    if fulfilment.attempts > MAX_ATTEMPTS:
        message = f"gave up after {MAX_ATTEMPTS} attempts; last error: {fulfilment.last_error}"
        recorded = store.record_failed(fulfilment_id, owner, "TooManyAttempts", message)
        return ConfirmResult(fulfilment_id, Outcome.FAILED if recorded else Outcome.LEASE_LOST)
    try:
        amazon.confirm_shipment(
            fulfilment.account_id,
            fulfilment.amazon_order_id,
            fulfilment.marketplace_id,
            package_for(fulfilment),
        )
    except ShipmentRejected as exc:
        recorded = store.record_failed(fulfilment_id, owner, exc.code, exc.message)
        outcome = Outcome.FAILED if recorded else Outcome.LEASE_LOST
        return ConfirmResult(fulfilment_id, outcome, str(exc))
    except AmazonUnavailable as exc:
        if exc.retry_after is not None and exc.retry_after > longest_wait:
            store.release(fulfilment_id, owner, exc.retry_after, exc.reason)
            return ConfirmResult(fulfilment_id, Outcome.DEFERRED, exc.reason)
        store.release(fulfilment_id, owner, SWEEP_AFTER_TRANSIENT, exc.reason)
        raise
    read_back = amazon.read_back(
        fulfilment.account_id, fulfilment.amazon_order_id, fulfilment.package_reference_id
    )
    recorded = store.record_confirmed(fulfilment, owner, read_back)
    return ConfirmResult(fulfilment_id, Outcome.CONFIRMED if recorded else Outcome.LEASE_LOST)


# A put-off read-back is tried again after this when Amazon gave no better hint, and given up
# this long after the confirmation (the order is synced anyway; the confirmation stands).
READ_BACK_RETRY = timedelta(seconds=10)
READ_BACK_GIVE_UP = timedelta(days=1)


def read_back_pending(
    store: ReadBackStore,
    amazon: ShipmentGateway,
    clock: Clock,
    *,
    limit: int,
    lease: timedelta,
) -> int:
    """Read back confirmed fulfilments whose read-back was put off, the longest due first,
    while each seller's ``getOrder`` budget has tokens free: a seller whose budget is spent is
    left for the next run, the others go on. Safe to run twice and at once (a read-back is a
    read; each is claimed for ``lease``). Returns how many were read."""
    read = 0
    spent: set[int] = set()
    for _ in range(limit):
        pending = store.claim_read_back(lease, frozenset(spent))
        if pending is None:
            break
        result = amazon.read_back(
            pending.account_id, pending.amazon_order_id, pending.package_reference_id
        )
        if result.deferred:
            give_up = clock.now() - pending.confirmed_at > READ_BACK_GIVE_UP
            retry_in = result.retry_after or READ_BACK_RETRY
            store.defer_read_back(pending.fulfilment_id, retry_in, result.error, give_up)
            spent.add(pending.account_id)
            continue
        store.record_read_back(pending, result)
        read += 1
    return read


# --- urgency and ship-by deadlines ------------------------------------------------------------


def urgency(ship_by_latest: datetime | None, now: datetime) -> int:
    """0 (most urgent) to 9: how soon the order's ship-by date passes. Amazon counts a
    confirmation when it arrives, so the nearest deadline goes first. Four steps, matching the
    Redis transport's priority sub-queues (0, 3, 6, 9)."""
    if ship_by_latest is None:
        return 9
    left = ship_by_latest - now
    if left <= timedelta(hours=2):
        return 0
    if left <= timedelta(hours=12):
        return 3
    if left <= timedelta(hours=48):
        return 6
    return 9


class DeadlineKind(StrEnum):
    APPROACHING = "approaching"
    MISSED = "missed"


def deadline_kind(
    ship_by_latest: datetime | None, now: datetime, warning: timedelta
) -> DeadlineKind | None:
    if ship_by_latest is None:
        return None
    if ship_by_latest <= now:
        return DeadlineKind.MISSED
    if ship_by_latest - now <= warning:
        return DeadlineKind.APPROACHING
    return None


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


class Topic(StrEnum):
    FULFILMENT_CONFIRMED = "fulfilments/confirmed"
    FULFILMENT_FAILED = "fulfilments/failed"
    SHIP_BY_APPROACHING = "orders/ship_by_approaching"
    SHIP_BY_MISSED = "orders/ship_by_missed"


DEADLINE_TOPICS = {
    DeadlineKind.APPROACHING: Topic.SHIP_BY_APPROACHING,
    DeadlineKind.MISSED: Topic.SHIP_BY_MISSED,
}


@dataclass
class DeadlineReport:
    skipped: bool = False
    checked: int = 0
    approaching: int = 0
    missed: int = 0


def late_orders(orders: Sequence[OpenOrder]) -> list[OpenOrder]:
    """Orders with something left to ship, most urgent first (what the operator must act on:
    an order our fulfilments already cover is on its way to Amazon)."""
    return sorted(
        (o for o in orders if o.quantity_remaining > 0),
        key=lambda o: (o.ship_by_latest, o.amazon_order_id),
    )


def check_deadlines(store: DeadlineStore, clock: Clock, warning: timedelta) -> DeadlineReport:
    """Warn before the ship-by date passes, and say when it has: once per order and kind.
    Safe to run twice and at once (a second check waits its turn or skips; alerts are unique)."""
    report = DeadlineReport()
    with store.deadline_lock() as locked:
        if not locked:
            report.skipped = True
            return report
        now = clock.now()
        due = late_orders(store.open_orders_due_by(now + warning))
        alerts = []
        for order in due:
            kind = deadline_kind(order.ship_by_latest, now, warning)
            if kind is not None:
                alerts.append(DeadlineAlert(order, kind))
        report.checked = len(due)
        new = store.record_alerts(alerts, now)
        report.approaching = sum(1 for a in new if a.kind is DeadlineKind.APPROACHING)
        report.missed = len(new) - report.approaching
    return report
