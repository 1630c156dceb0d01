"""The records the sandbox keeps: sellers, orders with items and packages, feeds.

Orders are kept as records, not as JSON: both Orders API versions are drawn from the same
record (``render``), so v0 and v2026-01-01 can never disagree. A test that wants an odd order
stores ``overrides`` that are merged into the v2026-01-01 JSON when it is drawn. Feeds and feed
documents are kept here too; what a feed does to orders is ``feeds``' business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# Every marketplace of Amazon's published list, shared with the store's account checks.
from infra.marketplaces import MARKETPLACES as MARKETPLACES
from infra.marketplaces import Marketplace as Marketplace

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
FEED_PROCESSING_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")


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
    # Units a shipment financial event was posted for (``state.finances``).
    quantity_charged: int = 0

    @property
    def quantity_open(self) -> int:
        """Units still to ship: ordered, less cancelled, less shipped."""
        return self.quantity - self.quantity_cancelled - self.quantity_shipped


ADJUSTMENT_SOURCES = ("feed", "seller_central")


@dataclass(frozen=True, slots=True)
class SandboxAdjustment:
    """One refund Amazon accepted for an item: an ``AdjustedItem`` of a payment adjustment
    feed (``source`` "feed", with its feed and message), or a refund made in Seller Central
    (``source`` "seller_central", the control API's stand-in for the seller's own hand).

    ``components`` are (Type, amount) pairs as sent: positive is credited to the buyer, a
    negative ``RestockingFee`` is kept back. Amounts are line totals, not unit prices.
    ``order_adjustment_item_id`` is Amazon's id for it, as the refund event shows it.
    """

    source: str
    feed_id: str | None
    message_id: int | None
    reason: str
    currency: str
    components: tuple[tuple[str, Decimal], ...]
    quantity_cancelled: int
    merchant_adjustment_item_id: str | None
    posted_at: datetime
    order_adjustment_item_id: str = ""

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.components), Decimal(0))

    @property
    def by_whom(self) -> str:
        """Who made it, in words: "by feed 123 (message 4)" or "in Seller Central"."""
        if self.source == "seller_central":
            return "in Seller Central"
        return f"by feed {self.feed_id} (message {self.message_id})"


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
    # False: a refund of Tax or ShippingTax is refused (the control API's switch).
    tax_refundable: bool = True

    @property
    def pending(self) -> bool:
        return self.status in ("PENDING", "PENDING_AVAILABILITY")


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
    # Sandbox seconds from creation to the outcome, as set when the feed was created
    # (``feeds.processing``); None: the default steps. ``submitted_at`` is the creation's
    # exact moment (``created_at`` is whole seconds, as Amazon shows it).
    processing_seconds: float | None = None
    submitted_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("DONE", "FATAL", "CANCELLED")
