"""Amazon's Orders v2026-01-01 order JSON -> ``domain.orders.AmazonOrder``, one order at a time.

Each order is translated on its own so that one that does not parse (an unknown status, a date
that is not a date, a missing field) is set aside with the reason and the raw JSON, and never
stops the page it came in. Unknown *optional* values (a new program, a new service level) are
kept as text; only what the store's rules depend on must be known.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.ingestion import FetchedOrder
from domain.orders import AmazonOrder, FulfilledBy, LineCharges, OrderLine, OrderStatus
from domain.shared import Money, MoneyError, TimeRefused, parse_utc


class TranslationError(ValueError):
    """The order JSON cannot become an AmazonOrder; the message is the set-aside reason."""


def parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise TranslationError(f"{field} is missing")
    try:
        return parse_utc(value)
    except TimeRefused as exc:
        raise TranslationError(f"{field} {value!r} {exc}") from None


def _optional_time(value: Any, field: str) -> datetime | None:
    return None if value in (None, "") else parse_time(value, field)


def _money(value: Any, field: str) -> Money | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TranslationError(f"{field} is not a money object")
    try:
        return Money.parse(str(value.get("amount")), str(value.get("currencyCode")))
    except MoneyError as exc:
        raise TranslationError(f"{field}: {exc}") from exc


def _enum(kind: type[OrderStatus] | type[FulfilledBy], value: Any, field: str) -> Any:
    try:
        return kind(value)
    except ValueError as exc:
        raise TranslationError(f"{field} {value!r} is not a value we know") from exc


def _int(value: Any, field: str, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise TranslationError(f"{field} {value!r} is not a whole number")
    return value


def _section(value: Any, field: str) -> dict[str, Any]:
    """An object of the order (``fulfillment``, ``product``, ...): absent or empty is an empty
    section; anything else that is no object names the field."""
    if isinstance(value, dict):
        return value
    if not value:
        return {}
    raise TranslationError(f"{field} is not an object (got {_kind(value)})")


def _list(value: Any, field: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if not value:
        return []
    raise TranslationError(f"{field} is not a list (got {_kind(value)})")


def _text(value: Any, field: str) -> str | None:
    """An optional text of the order: absent, or a string."""
    if value is None or isinstance(value, str):
        return value
    raise TranslationError(f"{field} is not text (got {_kind(value)})")


def _kind(value: Any) -> str:
    """A JSON value's kind as Amazon's documentation names it, for a reason."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


# What an item's proceeds say it charged, by the ``LineCharges`` part each category is; a TAX
# breakdown is split by its detailed breakdowns' subtypes (none: all of it is the item's tax).
# Other categories (COD_FEE, DISCOUNT, OTHER) are not what a refund gives back by component.
_CHARGED = {"ITEM": "principal", "SHIPPING": "shipping", "GIFT_WRAP": "gift_wrap"}
_TAXED = {"ITEM": "tax", "SHIPPING": "shipping_tax", "GIFT_WRAP": "gift_wrap_tax"}
_PENDING = frozenset({OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY})


def _charges(item: dict[str, Any], where: str) -> LineCharges | None:
    """The line's charges from its ``proceeds.breakdowns``, in one currency; None when the item
    carries no proceeds (Amazon sends none while an order is pending)."""
    proceeds = _section(item.get("proceeds"), f"{where}.proceeds")
    breakdowns = _list(proceeds.get("breakdowns"), f"{where}.proceeds.breakdowns")
    if not breakdowns:
        return None
    parts: dict[str, Decimal] = {}
    currency: str | None = None

    def add(part: str, value: Any, field: str) -> None:
        nonlocal currency
        money = _money(value, field)
        if money is None:
            raise TranslationError(f"{field} is missing")
        if currency is None:
            currency = money.currency
        elif money.currency != currency:
            raise TranslationError(f"{field} is in {money.currency}, the line in {currency}")
        parts[part] = parts.get(part, Decimal(0)) + money.amount

    for index, entry in enumerate(breakdowns):
        at = f"{where}.proceeds.breakdowns[{index}]"
        breakdown = _section(entry, at)
        kind = breakdown.get("type")
        if kind in _CHARGED:
            add(_CHARGED[kind], breakdown.get("subtotal"), f"{at}.subtotal")
        elif kind == "TAX":
            details = _list(breakdown.get("detailedBreakdowns"), f"{at}.detailedBreakdowns")
            if not details:
                add("tax", breakdown.get("subtotal"), f"{at}.subtotal")
            for number, detail in enumerate(details):
                place = f"{at}.detailedBreakdowns[{number}]"
                found = _section(detail, place)
                part = _TAXED.get(str(found.get("subtype")))
                if part is not None:
                    add(part, found.get("value"), f"{place}.value")
    if currency is None:  # only categories a refund does not give back by component
        return None
    zero = Decimal(0)
    return LineCharges(
        currency=currency,
        principal=parts.get("principal", zero),
        shipping=parts.get("shipping", zero),
        tax=parts.get("tax", zero),
        shipping_tax=parts.get("shipping_tax", zero),
        gift_wrap=parts.get("gift_wrap", zero),
        gift_wrap_tax=parts.get("gift_wrap_tax", zero),
    )


def _line(item: dict[str, Any], index: int, pending: bool) -> OrderLine:
    where = f"orderItems[{index}]"
    item_id = item.get("orderItemId")
    if not isinstance(item_id, str) or not item_id:
        raise TranslationError(f"{where}.orderItemId is missing")
    product = _section(item.get("product"), f"{where}.product")
    price = _section(product.get("price"), f"{where}.product.price").get("unitPrice")
    fulfillment = _section(item.get("fulfillment"), f"{where}.fulfillment")
    request = _section(item.get("cancellation"), f"{where}.cancellation").get("cancellationRequest")
    quantity = _int(item.get("quantityOrdered"), f"{where}.quantityOrdered")
    cancel_reason = None
    if request:
        cancel_reason = _text(
            _section(request, f"{where}.cancellation.cancellationRequest").get("cancelReason"),
            f"{where}.cancellation.cancellationRequest.cancelReason",
        )
    return OrderLine(
        order_item_id=item_id,
        quantity_ordered=quantity,
        quantity_shipped=_int(
            fulfillment.get("quantityFulfilled"), f"{where}.quantityFulfilled", default=0
        ),
        sku=_text(product.get("sellerSku"), f"{where}.product.sellerSku"),
        asin=_text(product.get("asin"), f"{where}.product.asin"),
        title=_text(product.get("title"), f"{where}.product.title"),
        unit_price=_money(price, f"{where}.product.price.unitPrice"),
        cancel_requested=bool(request),
        cancel_reason=cancel_reason,
        charges=None if pending else _charges(item, where),
    )


def _replaced_order_id(associated: list[Any]) -> str | None:
    """The original order's id when this order replaces one, else None."""
    for index, association in enumerate(associated):
        if isinstance(association, dict) and (
            association.get("associationType") == "REPLACEMENT_ORIGINAL_ID"
        ):
            return _text(association.get("orderId"), f"associatedOrders[{index}].orderId")
    return None


def to_domain(raw: dict[str, Any]) -> AmazonOrder:
    """Translate one order or raise ``TranslationError`` naming the field and the reason."""
    order_id = raw.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise TranslationError("orderId is missing")
    channel = _section(raw.get("salesChannel"), "salesChannel")
    fulfillment = _section(raw.get("fulfillment"), "fulfillment")
    ship_by = _section(fulfillment.get("shipByWindow"), "fulfillment.shipByWindow")
    deliver_by = _section(fulfillment.get("deliverByWindow"), "fulfillment.deliverByWindow")
    programs = tuple(str(p) for p in _list(raw.get("programs"), "programs"))
    replaced = _replaced_order_id(_list(raw.get("associatedOrders"), "associatedOrders"))
    items = raw.get("orderItems")
    if not isinstance(items, list):
        raise TranslationError("orderItems is missing")
    proceeds = _section(raw.get("proceeds"), "proceeds")
    marketplace_id = channel.get("marketplaceId")
    if not isinstance(marketplace_id, str) or not marketplace_id:
        raise TranslationError("salesChannel.marketplaceId is missing")
    status = _enum(OrderStatus, fulfillment.get("fulfillmentStatus"), "fulfillmentStatus")
    pending = status in _PENDING
    return AmazonOrder(
        amazon_order_id=order_id,
        marketplace_id=marketplace_id,
        status=status,
        fulfilled_by=_enum(FulfilledBy, fulfillment.get("fulfilledBy"), "fulfilledBy"),
        purchased_at=parse_time(raw.get("createdTime"), "createdTime"),
        last_updated_at=parse_time(raw.get("lastUpdatedTime"), "lastUpdatedTime"),
        lines=tuple(
            _line(item, i, pending) for i, item in enumerate(items) if isinstance(item, dict)
        ),
        total=_money(proceeds.get("grandTotal"), "proceeds.grandTotal"),
        ship_by_earliest=_optional_time(ship_by.get("earliestDateTime"), "shipByWindow"),
        ship_by_latest=_optional_time(ship_by.get("latestDateTime"), "shipByWindow"),
        deliver_by_earliest=_optional_time(deliver_by.get("earliestDateTime"), "deliverByWindow"),
        deliver_by_latest=_optional_time(deliver_by.get("latestDateTime"), "deliverByWindow"),
        service_level=_text(
            fulfillment.get("fulfillmentServiceLevel"), "fulfillment.fulfillmentServiceLevel"
        ),
        is_business="AMAZON_BUSINESS" in programs,
        is_prime="PRIME" in programs,
        is_replacement=replaced is not None,
        replaced_order_id=replaced,
        # We never ask for BUYER (no PII kept): only an empty buyer section Amazon did send
        # marks an order as missing its buyer data.
        has_buyer_data=bool(raw["buyer"]) if "buyer" in raw else True,
        programs=programs,
    )


def fetched(raw: Any) -> FetchedOrder:
    """One order of a page, translated or carrying the reason it was not."""
    if not isinstance(raw, dict):
        return FetchedOrder(amazon_order_id="?", raw={"value": raw}, problem="not a JSON object")
    order_id = str(raw.get("orderId") or "?")
    try:
        return FetchedOrder(amazon_order_id=order_id, raw=raw, order=to_domain(raw))
    except TranslationError as exc:
        return FetchedOrder(amazon_order_id=order_id, raw=raw, problem=str(exc))
