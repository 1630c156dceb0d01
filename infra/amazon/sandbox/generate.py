"""Made-up but realistic orders: Amazon-shaped ids, products, prices, buyers and addresses.

Everything random comes from the ``random.Random`` passed in, so a seeded generator makes the
same orders twice (bulk creation with a ``seed``). Buyers and addresses are invented; no real
person's data is in here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from infra.amazon.sandbox.state import (
    DEMO_SELLER,
    FULFILLED_BY,
    FULFILLMENT_STATUSES,
    MARKETPLACES,
    SERVICE_LEVELS,
    SandboxError,
    SandboxItem,
    SandboxOrder,
    SandboxState,
    apply_status,
    money,
    whole_seconds,
)

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"

_CATALOG = (
    ("Stainless Steel Water Bottle 750ml", Decimal("18.99")),
    ("Wireless Ergonomic Mouse", Decimal("24.50")),
    ("USB-C Charging Cable 2m (2-pack)", Decimal("11.99")),
    ("Organic Green Tea, 100 Bags", Decimal("9.49")),
    ("Hardcover Notebook A5, Dotted", Decimal("14.00")),
    ("LED Desk Lamp with Dimmer", Decimal("39.90")),
    ("Yoga Mat 6mm, Non-Slip", Decimal("29.95")),
    ("Cast Iron Skillet 26cm", Decimal("44.00")),
    ("Kids' Building Blocks Set, 500 pieces", Decimal("59.99")),
    ("Bluetooth Shower Speaker", Decimal("22.75")),
    ("Merino Wool Hiking Socks (3 pairs)", Decimal("27.00")),
    ("Replacement Vacuum Filter", Decimal("7.99")),
)
# Drawn SKUs of these carry the electronics prefix, so their referral fee is electronics' 8%
# (``state.charges.REFERRAL_RATES``); the rest are ``SKU-`` at the default 15%.
_ELECTRONICS = frozenset(
    {"Wireless Ergonomic Mouse", "USB-C Charging Cable 2m (2-pack)", "Bluetooth Shower Speaker"}
)

_FIRST = ("Alex", "Sam", "Jordan", "Robin", "Kim", "Charlie", "Maria", "Jonas", "Aiko", "Priya")
_LAST = ("Miller", "Schmidt", "Taylor", "Rossi", "Garcia", "Novak", "Sato", "Okafor", "Lee")

# (addressLine1, city, stateOrRegion, postalCode) per country; invented streets.
_ADDRESSES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "US": (
        ("1200 Example Ave", "Seattle", "WA", "98101"),
        ("77 Sample St", "Austin", "TX", "73301"),
        ("5 Placeholder Rd", "Portland", "ME", "04101"),
    ),
    "GB": (("12 Example Lane", "Leeds", "West Yorkshire", "LS1 4AP"),),
    "DE": (("Beispielstr. 8", "Berlin", "Berlin", "10115"),),
    "FR": (("3 Rue de l'Exemple", "Lyon", "Rhone", "69001"),),
    "JP": (("1-2-3 Reihinchou", "Chiyoda-ku", "Tokyo", "100-0001"),),
}

# Tax added on top of the price where the marketplace quotes prices without it.
_SALES_TAX = {"US": Decimal("0.08"), "CA": Decimal("0.13")}
# Rough price level of one "catalog dollar" in each currency, for plausible amounts.
_PRICE_LEVEL = {"JPY": Decimal(150), "MXN": Decimal(18), "CAD": Decimal("1.35")}

CANCEL_REASONS = (
    "Order created by mistake",
    "Found a better price",
    "Delivery date too late",
    "Changed mind about purchase",
)


@dataclass(slots=True)
class ItemSpec:
    sku: str
    quantity: int = 1
    unit_price: Decimal | None = None  # None: the catalog's price
    title: str | None = None
    asin: str | None = None


@dataclass(slots=True)
class OrderSpec:
    """What a test may say about a new order; everything left out is made up."""

    seller_id: str = DEMO_SELLER.seller_id
    marketplace_id: str | None = None  # None: the seller's first marketplace
    fulfilled_by: str = "MERCHANT"
    status: str = "UNSHIPPED"
    items: list[ItemSpec] | None = None  # None: `item_count` random items
    item_count: int = 1
    currency: str | None = None  # None: the marketplace's
    business: bool = False
    replacement_of: str | None = None
    missing_buyer: bool = False
    prime: bool = False
    created_time: datetime | None = None  # None: the sandbox's now
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    service_level: str | None = None


def amazon_order_id(rng: random.Random) -> str:
    """3-7-7 digits, like "113-1234567-1234567"."""
    prefix = rng.choice(("111", "112", "113", "114", "202", "205", "302", "303", "028", "171"))
    return f"{prefix}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"


def order_item_id(rng: random.Random) -> str:
    return "".join(rng.choices(_DIGITS, k=14))


def asin(rng: random.Random) -> str:
    return "B0" + "".join(rng.choices(_ALNUM, k=8))


def _price(rng: random.Random, base: Decimal, currency: str) -> Decimal:
    wobble = Decimal(rng.randint(85, 115)) / 100
    return money(base * wobble * _PRICE_LEVEL.get(currency, Decimal(1)), currency)


def _category(title: str) -> str:
    return "ELEC" if title in _ELECTRONICS else "SKU"


def _item(
    rng: random.Random, spec: ItemSpec | None, currency: str, country: str, first: bool
) -> SandboxItem:
    title, base = rng.choice(_CATALOG)
    quantity = spec.quantity if spec else rng.choice((1, 1, 1, 2, 3))
    if quantity < 1:
        raise SandboxError("quantity must be at least 1")
    unit = spec.unit_price if spec and spec.unit_price is not None else _price(rng, base, currency)
    if unit < 0:
        raise SandboxError("unit_price must not be negative")
    unit = money(unit, currency)
    # Shipping is charged once per order; it rides on the first line, as Amazon reports it.
    level = _PRICE_LEVEL.get(currency, Decimal(1))
    shipping = money(Decimal("4.99") * level, currency) if first else Decimal(0)
    rate = _SALES_TAX.get(country, Decimal(0))
    return SandboxItem(
        order_item_id=order_item_id(rng),
        asin=(spec.asin if spec and spec.asin else None) or asin(rng),
        sku=spec.sku if spec else f"{_category(title)}-{rng.randrange(10**5):05d}",
        title=(spec.title if spec and spec.title else None) or title,
        quantity=quantity,
        unit_price=unit,
        shipping_price=money(shipping, currency),
        tax=money((unit * quantity + shipping) * rate, currency),
    )


def build_order(state: SandboxState, spec: OrderSpec, rng: random.Random) -> SandboxOrder:
    """A complete order record from a spec; the caller stores it (``state.add_order``)."""
    seller = state.seller(spec.seller_id)
    marketplace_id = spec.marketplace_id or seller.marketplace_ids[0]
    marketplace = MARKETPLACES.get(marketplace_id)
    if marketplace is None:
        raise SandboxError(f"unknown marketplace {marketplace_id}")
    if spec.fulfilled_by not in FULFILLED_BY:
        raise SandboxError(f"fulfilled_by must be one of {FULFILLED_BY}")
    if spec.status not in FULFILLMENT_STATUSES:
        raise SandboxError(f"status must be one of {FULFILLMENT_STATUSES}")
    service_level = spec.service_level or ("NEXT_DAY" if spec.prime else "STANDARD")
    if service_level not in SERVICE_LEVELS:
        raise SandboxError(f"service_level must be one of {SERVICE_LEVELS}")
    if spec.items is not None and not spec.items:
        raise SandboxError("an order needs at least one item")
    currency = spec.currency or marketplace.currency
    country = marketplace.country_code
    specs: list[ItemSpec | None] = (
        list(spec.items) if spec.items else [None] * max(1, spec.item_count)
    )
    items = [_item(rng, s, currency, country, i == 0) for i, s in enumerate(specs)]
    created = whole_seconds(spec.created_time or state.now())
    ship_latest = whole_seconds(spec.ship_by) if spec.ship_by else created + timedelta(days=2)
    deliver_latest = (
        whole_seconds(spec.deliver_by) if spec.deliver_by else ship_latest + timedelta(days=5)
    )
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    street, city, region, postal = rng.choice(_ADDRESSES.get(country, _ADDRESSES["US"]))
    address = {
        "name": f"{first} {last}",
        "addressLine1": street,
        "city": city,
        "stateOrRegion": region,
        "postalCode": postal,
        "countryCode": country,
        "phone": f"+1 555 01{rng.randrange(100):02d}",
        "addressType": "COMMERCIAL" if spec.business else "RESIDENTIAL",
    }
    order_id = amazon_order_id(rng)
    while order_id in state.orders:
        order_id = amazon_order_id(rng)
    order = SandboxOrder(
        order_id=order_id,
        seller_id=seller.seller_id,
        marketplace_id=marketplace_id,
        currency=currency,
        fulfilled_by=spec.fulfilled_by,
        status="PENDING",
        created_at=created,
        updated_at=created,
        items=items,
        business=spec.business,
        prime=spec.prime,
        replacement_of=spec.replacement_of,
        missing_buyer=spec.missing_buyer,
        service_level=service_level,
        ship_by=(created, ship_latest),
        deliver_by=(ship_latest + timedelta(days=1), deliver_latest),
        buyer_name=f"{first} {last}",
        buyer_email=f"{rng.randrange(16**12):012x}@marketplace.amazon.com",
        buyer_company=f"{last} Supplies Ltd" if spec.business else None,
        purchase_order_number=f"PO-{rng.randrange(10**6):06d}" if spec.business else None,
        address=address,
    )
    apply_status(order, spec.status, created, rng)
    return order


def create_order(state: SandboxState, spec: OrderSpec) -> SandboxOrder:
    with state.lock:
        order = build_order(state, spec, state.rng)
        state.add_order(order)
        return order


def varied_spec(
    rng: random.Random, state: SandboxState, seller_id: str, created: datetime
) -> OrderSpec:
    """One order of any kind a real seller sees: MFN/AFN, marketplaces, multi-line, B2B, Prime."""
    seller = state.seller(seller_id)
    fulfilled_by = rng.choice(("MERCHANT", "MERCHANT", "MERCHANT", "AMAZON"))
    status = rng.choices(
        ("PENDING", "UNSHIPPED", "SHIPPED", "PARTIALLY_SHIPPED", "CANCELLED"),
        weights=(15, 55, 20, 5, 5),
    )[0]
    if fulfilled_by == "AMAZON" and status == "UNSHIPPED":
        status = "SHIPPED"  # FBA orders ship quickly; unshipped FBA is rare
    return OrderSpec(
        seller_id=seller_id,
        marketplace_id=rng.choice(seller.marketplace_ids),
        fulfilled_by=fulfilled_by,
        status=status,
        item_count=rng.choices((1, 2, 3, 4), weights=(60, 25, 10, 5))[0],
        business=rng.random() < 0.1,
        prime=rng.random() < 0.3,
        missing_buyer=rng.random() < 0.03,
        created_time=created,
    )


def create_bulk(
    state: SandboxState,
    count: int,
    *,
    seller_id: str,
    marketplace_id: str | None,
    fulfilled_by: str | None,
    status: str | None,
    items_per_order: int | None,
    spread_seconds: float,
    seed: int | None,
) -> list[str]:
    """``count`` varied orders created over the last ``spread_seconds`` (sandbox time).

    Fixed fields override the variety; with a ``seed`` the same call makes the same orders
    (ids included, unless one is already taken).
    """
    if count < 1 or count > 100_000:
        raise SandboxError("count must be between 1 and 100000")
    rng = random.Random(seed) if seed is not None else state.rng
    ids: list[str] = []
    with state.lock:
        end = whole_seconds(state.now())
        for _ in range(count):
            created = end - timedelta(seconds=rng.uniform(0, max(0.0, spread_seconds)))
            spec = varied_spec(rng, state, seller_id, created)
            if marketplace_id:
                spec.marketplace_id = marketplace_id
            if fulfilled_by:
                spec.fulfilled_by = fulfilled_by
            if status:
                spec.status = status
            if items_per_order:
                spec.item_count = items_per_order
            order = build_order(state, spec, rng)
            state.add_order(order)
            ids.append(order.order_id)
    return ids
