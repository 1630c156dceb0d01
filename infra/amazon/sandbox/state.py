"""Everything the sandbox remembers, in memory, behind one lock.

The sandbox plays Amazon for tests and demos, so its state is what Amazon would hold for us:
sellers and their Login-with-Amazon credentials, access tokens, orders, one token bucket per
(seller, operation), plus what only a test harness wants: queued faults, a log of calls and a
clock that can be moved forward. The HTTP layer (``app``) reads and changes it only through
``SandboxState`` and only while holding ``SandboxState.lock`` (an ``RLock``: uvicorn serves
requests on one event loop, but the demo generator and tests touch the state from other
threads).

Orders are kept as records (``SandboxOrder``), not as JSON: both Orders API versions are drawn
from the same record (``render``), so v0 and v2026-01-01 can never disagree. A test that wants an
odd order stores ``overrides`` that are merged into the v2026-01-01 JSON when it is drawn.

Feeds (``SandboxFeed``) and feed documents (``SandboxFeedDocument``) are kept here too; what a
feed does to orders is ``feeds``' business, what one package confirmation does is ``shipments``'.

Time: ``now()`` is real UTC time plus an offset that ``advance_clock`` moves, so a test can make a
fresh change pass Amazon's "two minutes before now" rule without waiting. Order timestamps are
whole seconds, the precision Amazon shows, so a window boundary the client reads is exactly the
one the sandbox applied. Token buckets use the monotonic clock and ignore the offset.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from infra.amazon.models import usage_plan

ACCESS_TOKEN_LIFETIME_S = 3600
PAGINATION_TOKEN_LIFETIME = timedelta(hours=24)
# Amazon only answers for windows that end at least this long before its "now".
VISIBILITY_LAG = timedelta(minutes=2)
CALL_LOG_SIZE = 10_000

FULFILLMENT_STATUSES = (
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
)
FULFILLED_BY = ("MERCHANT", "AMAZON")
SERVICE_LEVELS = (
    "STANDARD",
    "EXPEDITED",
    "FREE_ECONOMY",
    "NEXT_DAY",
    "SECOND_DAY",
    "SAME_DAY",
    "PRIORITY",
    "SCHEDULED",
)
FAULT_KINDS = ("429", "500", "503", "latency", "drop", "lose_response")
FEED_PROCESSING_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
FIRST_FEED_ID = 50_001_000_000  # Amazon's feed ids are long numbers, unique per seller


class SandboxError(Exception):
    """A control request the state refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class LwaError(Exception):
    """A token request Login with Amazon refuses (OAuth 2.0 ``error`` code and description)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class Marketplace:
    marketplace_id: str
    name: str  # the v2026-01-01 marketplaceName and the v0 SalesChannel
    country_code: str
    currency: str


MARKETPLACES: dict[str, Marketplace] = {
    m.marketplace_id: m
    for m in (
        Marketplace("ATVPDKIKX0DER", "Amazon.com", "US", "USD"),
        Marketplace("A2EUQ1WTGCTBG2", "Amazon.ca", "CA", "CAD"),
        Marketplace("A1AM78C64UM0Y8", "Amazon.com.mx", "MX", "MXN"),
        Marketplace("A1F83G8C2ARO7P", "Amazon.co.uk", "GB", "GBP"),
        Marketplace("A1PA6795UKMFR9", "Amazon.de", "DE", "EUR"),
        Marketplace("A13V1IB3VIYZZH", "Amazon.fr", "FR", "EUR"),
        Marketplace("APJ6JRA9NG5V4", "Amazon.it", "IT", "EUR"),
        Marketplace("A1RKKUPIHCS9HS", "Amazon.es", "ES", "EUR"),
        Marketplace("A1VC38T7YXB528", "Amazon.co.jp", "JP", "JPY"),
    )
}


@dataclass(frozen=True, slots=True)
class SellerAccount:
    """A selling partner and the one application's LWA credentials that reach it."""

    seller_id: str
    refresh_token: str
    client_id: str
    client_secret: str
    marketplace_ids: tuple[str, ...]

    def __repr__(self) -> str:  # never print the secrets
        return f"SellerAccount(seller_id={self.seller_id!r}, marketplaces={self.marketplace_ids})"


DEMO_SELLER = SellerAccount(
    seller_id="A1SANDBOXDEMO",
    refresh_token="Atzr|sandbox-demo-seller",  # noqa: S106 (the sandbox's published demo secret)
    client_id="amzn1.application-oa2-client.sandbox",
    client_secret="sandbox-secret",  # noqa: S106
    marketplace_ids=("ATVPDKIKX0DER", "A1F83G8C2ARO7P", "A1PA6795UKMFR9"),
)


@dataclass(slots=True)
class SandboxItem:
    order_item_id: str
    asin: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    shipping_price: Decimal  # for the whole line
    tax: Decimal  # for the whole line (item and shipping)
    quantity_shipped: int = 0
    cancel_reason: str | None = None  # set when the buyer asked to cancel this item
    # Units the seller cancelled (acknowledgement or adjustment feed) and why.
    quantity_cancelled: int = 0
    seller_cancel_reason: str | None = None
    adjustments: list[SandboxAdjustment] = field(default_factory=list)

    @property
    def quantity_open(self) -> int:
        """Units still to ship: ordered, less cancelled, less shipped."""
        return self.quantity - self.quantity_cancelled - self.quantity_shipped


@dataclass(frozen=True, slots=True)
class SandboxAdjustment:
    """One ``AdjustedItem`` of a payment adjustment feed that Amazon accepted.

    ``components`` are (Type, amount) pairs as sent: positive is credited to the buyer, a
    negative ``RestockingFee`` is kept back. Amounts are line totals, not unit prices.
    """

    feed_id: str
    message_id: int
    reason: str
    currency: str
    components: tuple[tuple[str, Decimal], ...]
    quantity_cancelled: int
    merchant_adjustment_item_id: str | None
    posted_at: datetime

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.components), Decimal(0))


@dataclass(slots=True)
class SandboxPackage:
    """One shipped package: auto-made for shipped MFN orders, or confirmed by the seller
    (``confirmShipment``, the order fulfillment feed). ``ship_time`` is the ship date the seller
    sent, which is what Amazon holds against the order's latest ship date."""

    package_reference_id: str
    carrier: str
    tracking_number: str
    shipping_service: str  # "" when the seller named no shipping method
    ship_time: datetime
    created_time: datetime
    status: str  # PackageStatus.status
    items: list[tuple[str, int]]  # (orderItemId, quantity)
    carrier_code: str | None = None  # as confirmed; ``carrier`` is what Amazon shows
    transparency_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ship_from_supply_source_id: str | None = None
    updated_time: datetime | None = None  # the last edit by the same packageReferenceId


@dataclass(slots=True)
class SandboxOrder:
    order_id: str
    seller_id: str
    marketplace_id: str
    currency: str
    fulfilled_by: str
    status: str
    created_at: datetime
    updated_at: datetime
    items: list[SandboxItem]
    business: bool = False
    prime: bool = False
    replacement_of: str | None = None
    missing_buyer: bool = False
    service_level: str = "STANDARD"
    ship_by: tuple[datetime, datetime] | None = None
    deliver_by: tuple[datetime, datetime] | None = None
    buyer_name: str = ""
    buyer_email: str = ""
    buyer_company: str | None = None
    purchase_order_number: str | None = None
    address: dict[str, str] = field(default_factory=dict)
    packages: list[SandboxPackage] = field(default_factory=list)
    # Raw v2026-01-01 fields merged over the drawn JSON (``None`` deletes a field).
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        return self.status in ("PENDING", "PENDING_AVAILABILITY")


@dataclass(slots=True)
class Fault:
    """``count`` next calls of ``operation`` ("*" = any) by ``seller_id`` (None = any) go wrong."""

    operation: str
    kind: str
    count: int
    latency_ms: int = 0
    seller_id: str | None = None

    def matches(self, operation: str, seller_id: str | None) -> bool:
        return (self.operation in ("*", operation)) and (
            self.seller_id is None or self.seller_id == seller_id
        )


@dataclass(slots=True)
class SandboxFeedDocument:
    """A feed document: reserved by ``createFeedDocument``, filled by a PUT to its URL; or a
    processing report the sandbox wrote (``content`` gzipped when ``compression`` is GZIP)."""

    document_id: str
    seller_id: str
    content_type: str
    created_at: datetime
    content: bytes | None = None
    compression: str | None = None
    uploaded_at: datetime | None = None
    feed_id: str | None = None  # for a result document: the feed it reports on


@dataclass(frozen=True, slots=True)
class FeedResult:
    """One ``Result`` of a processing report (``message_id`` 0: the document as a whole)."""

    message_id: int
    result_code: str  # "Error" | "Warning"
    message_code: int
    description: str
    additional_info: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class SandboxFeed:
    """A submitted feed and, once processed, what each of its messages did."""

    feed_id: str
    seller_id: str
    feed_type: str
    marketplace_ids: tuple[str, ...]
    input_document_id: str
    feed_options: dict[str, str]
    created_at: datetime
    content: bytes | None  # the input document as it was when the feed was created
    content_type: str
    status: str = "IN_QUEUE"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    result_document_id: str | None = None
    polls: int = 0  # getFeed calls so far (each moves the feed one step on)
    messages_processed: int = 0
    messages_successful: int = 0
    messages_with_error: int = 0
    messages_with_warning: int = 0
    results: list[FeedResult] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # what each message did
    fatal_reason: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("DONE", "FATAL", "CANCELLED")


@dataclass(frozen=True, slots=True)
class CallRecord:
    time: str
    request_id: str
    operation: str
    seller_id: str | None
    status: int
    fault: str | None


class TokenBucket:
    """Amazon's meter: ``rate`` tokens/second refill up to ``burst``; a call spends one.

    Takes the monotonic time from its caller so a test can drive it without sleeping.
    """

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """Amazon's timestamp form: UTC, whole seconds, ``Z``."""
    # The first 19 characters of isoformat are strftime's "%Y-%m-%dT%H:%M:%S" (for any year
    # from 1000), at a third of the cost; an order's JSON holds a dozen of these.
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:19] + "Z"


def parse_iso(value: str) -> datetime:
    """An ISO 8601 time as Amazon accepts it; a time without a zone is taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class SandboxState:
    """All of the sandbox's memory. Callers hold ``lock`` around anything that reads orders."""

    def __init__(
        self,
        rate_factor: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        if rate_factor < 0:
            raise ValueError("rate_factor must be >= 0 (0 lifts the limits)")
        self.lock = threading.RLock()
        self.rate_factor = rate_factor
        self._monotonic = monotonic
        self.rng = random.Random(seed)  # ids and generated content; not security relevant
        self._pagination_key = secrets.token_bytes(16)
        self._clock_offset = timedelta(0)
        self.sellers: dict[str, SellerAccount] = {}
        self.access_tokens: dict[str, tuple[str, datetime]] = {}
        self.orders: dict[str, SandboxOrder] = {}
        self.buckets: dict[tuple[str, str], TokenBucket] = {}
        self.faults: list[Fault] = []
        self.calls: deque[CallRecord] = deque(maxlen=CALL_LOG_SIZE)
        self.feed_documents: dict[str, SandboxFeedDocument] = {}
        self.feeds: dict[str, SandboxFeed] = {}
        self.gzip_feed_results = False  # processing reports stored (and served) gzipped
        self.add_seller(DEMO_SELLER)

    # -- clock ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's "Amazon time": real UTC plus the offset tests advanced."""
        return datetime.now(UTC) + self._clock_offset

    def advance_clock(self, seconds: float) -> datetime:
        if seconds < 0:
            raise SandboxError("the sandbox clock only moves forward")
        with self.lock:
            self._clock_offset += timedelta(seconds=seconds)
            return self.now()

    @property
    def clock_offset(self) -> timedelta:
        return self._clock_offset

    # -- sellers and Login with Amazon ---------------------------------------------------------

    def add_seller(self, seller: SellerAccount) -> None:
        unknown = [m for m in seller.marketplace_ids if m not in MARKETPLACES]
        if unknown or not seller.marketplace_ids:
            raise SandboxError(f"unknown or missing marketplace ids: {unknown}")
        with self.lock:
            if seller.seller_id in self.sellers:
                raise SandboxError(f"seller {seller.seller_id} exists", status=409)
            if any(s.refresh_token == seller.refresh_token for s in self.sellers.values()):
                raise SandboxError("that refresh token belongs to another seller", status=409)
            self.sellers[seller.seller_id] = seller

    def seller(self, seller_id: str) -> SellerAccount:
        found = self.sellers.get(seller_id)
        if found is None:
            raise SandboxError(f"unknown seller {seller_id}", status=404)
        return found

    def issue_access_token(
        self, refresh_token: str, client_id: str, client_secret: str
    ) -> tuple[str, int]:
        """An LWA ``refresh_token`` grant: a new access token and its lifetime in seconds."""
        with self.lock:
            seller = next(
                (s for s in self.sellers.values() if s.refresh_token == refresh_token), None
            )
            if seller is None:
                raise LwaError(400, "invalid_grant", "The request has an invalid grant parameter")
            if not (
                hmac.compare_digest(seller.client_id, client_id)
                and hmac.compare_digest(seller.client_secret, client_secret)
            ):
                raise LwaError(401, "invalid_client", "Client authentication failed")
            token = "Atza|" + secrets.token_urlsafe(48)
            expires = self.now() + timedelta(seconds=ACCESS_TOKEN_LIFETIME_S)
            self.access_tokens[token] = (seller.seller_id, expires)
            return token, ACCESS_TOKEN_LIFETIME_S

    def seller_for_access_token(self, token: str | None) -> str | None:
        """The seller an unexpired access token speaks for, or None (Amazon then says 403)."""
        if not token:
            return None
        with self.lock:
            entry = self.access_tokens.get(token)
            if entry is None:
                return None
            seller_id, expires = entry
            if self.now() >= expires:
                del self.access_tokens[token]
                return None
            return seller_id

    # -- rate limits ---------------------------------------------------------------------------

    def take_token(self, seller_id: str, operation: str) -> bool:
        """Spend one call of the seller's bucket for ``operation``; False means 429."""
        if self.rate_factor == 0:
            return True
        plan = usage_plan(operation)
        with self.lock:
            now = self._monotonic()
            bucket = self.buckets.get((seller_id, operation))
            if bucket is None:
                bucket = TokenBucket(plan.rate * self.rate_factor, plan.burst, now)
                self.buckets[(seller_id, operation)] = bucket
            return bucket.take(now)

    def rate_limit_header(self, operation: str) -> str:
        """``x-amzn-RateLimit-Limit``: the usage plan's rate in Amazon's units.

        Not multiplied by ``rate_factor``: the factor is the sandbox's speed-up of time, and our
        client scales the header by its own factor, as it scales the model's rate.
        """
        return f"{usage_plan(operation).rate:g}"

    # -- faults and the call log ---------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise SandboxError(f"unknown fault kind {fault.kind!r}; one of {FAULT_KINDS}")
        if fault.count < 1:
            raise SandboxError("count must be at least 1")
        with self.lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, operation: str, seller_id: str | None) -> Fault | None:
        """The first queued fault for this call, with one of its uses spent."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(operation, seller_id):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
            return None

    def record_call(
        self,
        request_id: str,
        operation: str,
        seller_id: str | None,
        status: int,
        fault: str | None,
    ) -> None:
        with self.lock:
            self.calls.append(
                CallRecord(iso(self.now()), request_id, operation, seller_id, status, fault)
            )

    def call_log(self, operation: str | None = None, limit: int = 100) -> list[CallRecord]:
        with self.lock:
            calls = [c for c in self.calls if not operation or c.operation == operation]
        return calls[-limit:] if limit > 0 else []

    def clear_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    # -- orders --------------------------------------------------------------------------------

    def add_order(self, order: SandboxOrder) -> None:
        with self.lock:
            if order.order_id in self.orders:
                raise SandboxError(f"order {order.order_id} exists", status=409)
            self.orders[order.order_id] = order

    def order(self, order_id: str) -> SandboxOrder:
        found = self.orders.get(order_id)
        if found is None:
            raise SandboxError(f"unknown order {order_id}", status=404)
        return found

    def touch(self, order: SandboxOrder) -> None:
        """Record a change: Amazon moves lastUpdatedTime on every change to an order."""
        order.updated_at = max(whole_seconds(self.now()), order.created_at)

    def set_status(self, order_id: str, status: str) -> SandboxOrder:
        if status not in FULFILLMENT_STATUSES:
            raise SandboxError(f"unknown status {status!r}; one of {FULFILLMENT_STATUSES}")
        with self.lock:
            order = self.order(order_id)
            apply_status(order, status, self.now(), self.rng)
            self.touch(order)
            return order

    def request_cancellation(
        self, order_id: str, reason: str, item_ids: list[str] | None
    ) -> SandboxOrder:
        with self.lock:
            order = self.order(order_id)
            wanted = set(item_ids) if item_ids else {i.order_item_id for i in order.items}
            unknown = wanted - {i.order_item_id for i in order.items}
            if unknown:
                raise SandboxError(f"unknown order item ids {sorted(unknown)}")
            for item in order.items:
                if item.order_item_id in wanted:
                    item.cancel_reason = reason
            self.touch(order)
            return order

    def patch_raw(self, order_id: str, patch: dict[str, Any], replace: bool) -> SandboxOrder:
        with self.lock:
            order = self.order(order_id)
            order.overrides = (
                dict(patch) if replace else deep_merge(order.overrides, patch, keep_none=True)
            )
            self.touch(order)
            return order

    def orders_of(self, seller_id: str) -> list[SandboxOrder]:
        with self.lock:
            return [o for o in self.orders.values() if o.seller_id == seller_id]

    # -- feeds and feed documents -------------------------------------------------------------

    def new_document_id(self) -> str:
        """An id shaped like Amazon's (``amzn1.tortuga.4.na.<uuid>``), drawn from ``rng``."""
        raw = f"{self.rng.getrandbits(128):032x}"
        uid = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
        return f"amzn1.tortuga.4.na.{uid}.T{self.rng.randrange(10**12, 10**13)}"

    def add_feed_document(self, document: SandboxFeedDocument) -> None:
        with self.lock:
            if document.document_id in self.feed_documents:
                raise SandboxError(f"feed document {document.document_id} exists", status=409)
            self.feed_documents[document.document_id] = document

    def feed_document(self, document_id: str) -> SandboxFeedDocument:
        found = self.feed_documents.get(document_id)
        if found is None:
            raise SandboxError(f"unknown feed document {document_id}", status=404)
        return found

    def new_feed_id(self) -> str:
        with self.lock:
            return str(FIRST_FEED_ID + len(self.feeds) + 1)

    def add_feed(self, feed: SandboxFeed) -> None:
        with self.lock:
            if feed.feed_id in self.feeds:
                raise SandboxError(f"feed {feed.feed_id} exists", status=409)
            self.feeds[feed.feed_id] = feed

    def feed(self, feed_id: str) -> SandboxFeed:
        found = self.feeds.get(feed_id)
        if found is None:
            raise SandboxError(f"unknown feed {feed_id}", status=404)
        return found

    def summary(self) -> dict[str, Any]:
        """Counts for ``GET /_sandbox/state``: orders by seller and status, packages, calls."""
        with self.lock:
            by_seller: dict[str, dict[str, int]] = {s: {} for s in self.sellers}
            packages = 0
            for order in self.orders.values():
                counts = by_seller.setdefault(order.seller_id, {})
                counts[order.status] = counts.get(order.status, 0) + 1
                packages += len(order.packages)
            feeds_by_status: dict[str, int] = {}
            for feed in self.feeds.values():
                feeds_by_status[feed.status] = feeds_by_status.get(feed.status, 0) + 1
            return {
                "now": iso(self.now()),
                "clock_offset_seconds": self._clock_offset.total_seconds(),
                "rate_factor": self.rate_factor,
                "sellers": sorted(self.sellers),
                "orders": len(self.orders),
                "orders_by_seller_and_status": by_seller,
                "packages": packages,
                "access_tokens": len(self.access_tokens),
                "faults": [
                    {"operation": f.operation, "kind": f.kind, "count": f.count}
                    for f in self.faults
                ],
                "calls": len(self.calls),
                "feeds_by_status": feeds_by_status,
                "feed_documents": len(self.feed_documents),
            }

    def reset(self) -> None:
        """Forget everything but the demo seller; rate limits and clock start afresh."""
        with self.lock:
            self.sellers.clear()
            self.access_tokens.clear()
            self.orders.clear()
            self.buckets.clear()
            self.faults.clear()
            self.calls.clear()
            self.feed_documents.clear()
            self.feeds.clear()
            self.gzip_feed_results = False
            self._clock_offset = timedelta(0)
            self.add_seller(DEMO_SELLER)

    # -- pagination tokens ---------------------------------------------------------------------

    def make_pagination_token(self, payload: dict[str, Any]) -> str:
        """An opaque, signed token carrying the query, the position and when it was issued."""
        body = dict(payload, issued=iso(self.now()))
        raw = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
        mac = hmac.new(self._pagination_key, raw, hashlib.sha256).digest()[:12]
        return raw.decode().rstrip("=") + "." + base64.urlsafe_b64encode(mac).decode()

    def read_pagination_token(self, token: str) -> dict[str, Any]:
        """The payload of a token this sandbox issued; ``SandboxError`` if forged or expired."""
        try:
            raw_text, mac_text = token.split(".", 1)
            raw = raw_text.encode() + b"=" * (-len(raw_text) % 4)
            mac = base64.urlsafe_b64decode(mac_text.encode())
            expected = hmac.new(self._pagination_key, raw, hashlib.sha256).digest()[:12]
            if not hmac.compare_digest(mac, expected):
                raise ValueError("bad signature")
            payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(raw))
            issued = parse_iso(payload["issued"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SandboxError("Invalid pagination token") from exc
        if self.now() - issued > PAGINATION_TOKEN_LIFETIME:
            raise SandboxError("The pagination token has expired")
        return payload


def deep_merge(
    base: dict[str, Any], patch: dict[str, Any], *, keep_none: bool = False
) -> dict[str, Any]:
    """``patch`` over ``base``: objects merge, anything else replaces, ``None`` deletes.

    With ``keep_none`` a ``None`` is kept instead, so patches can pile up and still delete the
    field when they are finally applied to the drawn order.
    """
    merged = dict(base)
    for key, value in patch.items():
        if value is None and not keep_none:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value, keep_none=keep_none)
        else:
            merged[key] = value
    return merged


def settle_fulfillment(order: SandboxOrder) -> None:
    """Derive shipped quantities from the packages and the status from the quantities.

    Used after a seller's change (a package confirmed or edited, units cancelled): every unit
    cancelled is CANCELLED; every unit not cancelled shipped is SHIPPED; some shipped is
    PARTIALLY_SHIPPED; otherwise the status stays (UNSHIPPED, or PENDING for a cancel).
    """
    shipped: dict[str, int] = {}
    for package in order.packages:
        if package.status == "CANCELLED":
            continue
        for item_id, quantity in package.items:
            shipped[item_id] = shipped.get(item_id, 0) + quantity
    for item in order.items:
        item.quantity_shipped = shipped.get(item.order_item_id, 0)
    to_ship = sum(i.quantity - i.quantity_cancelled for i in order.items)
    sent = sum(i.quantity_shipped for i in order.items)
    if to_ship == 0:
        order.status = "CANCELLED"
    elif sent >= to_ship:
        order.status = "SHIPPED"
    elif sent > 0:
        order.status = "PARTIALLY_SHIPPED"


_CARRIERS = (("UPS", "UPS Ground"), ("USPS", "USPS Priority Mail"), ("FedEx", "FedEx Home"))


def apply_status(order: SandboxOrder, status: str, now: datetime, rng: random.Random) -> None:
    """Move an order to ``status`` and make its items and packages agree with it.

    Shipped quantities follow the status (all, some, none); a seller-fulfilled order that has
    shipped something gets a package, as it would after a shipment confirmation.
    """
    order.status = status
    if status == "PARTIALLY_SHIPPED" and sum(i.quantity for i in order.items) < 2:
        # A partial shipment needs two units; grow the one line rather than refuse.
        order.items[0].quantity = 2
    for index, item in enumerate(order.items):
        if status == "SHIPPED":
            item.quantity_shipped = item.quantity
        elif status == "PARTIALLY_SHIPPED":
            if len(order.items) > 1:
                item.quantity_shipped = item.quantity if index == 0 else 0
            else:
                item.quantity_shipped = item.quantity - 1
        elif status != "CANCELLED":
            item.quantity_shipped = 0
    if status in ("SHIPPED", "PARTIALLY_SHIPPED") and order.fulfilled_by == "MERCHANT":
        shipped = [(i.order_item_id, i.quantity_shipped) for i in order.items if i.quantity_shipped]
        carrier, service = rng.choice(_CARRIERS)
        moment = whole_seconds(now)
        order.packages = [
            SandboxPackage(
                package_reference_id="1",
                carrier=carrier,
                tracking_number="1Z"
                + "".join(rng.choices("0123456789ABCDEFGHJKLMNPRSTUVWXYZ", k=16)),
                shipping_service=service,
                ship_time=moment,
                created_time=moment,
                status="SHIPPED",
                items=shipped,
            )
        ]
    elif status not in ("SHIPPED", "PARTIALLY_SHIPPED"):
        order.packages = []
