"""Draw sandbox records as Amazon's JSON: an order in Orders v2026-01-01 and v0, a feed.

Field names and enum values follow the model definitions (``Order``, ``OrderItem``, ``Money``...
in ``spapi_models/``); the conformance tests validate what is drawn here against them.

Amazon behaviours kept on purpose:

- v2026-01-01 returns only the sections asked for with ``includedData`` (``rules.included``).
- While an order is pending there are no prices, proceeds or address (v0: no ``OrderTotal``, no
  item prices, no ``ShippingAddress``).
- An item's ``TAX`` proceeds carry ``detailedBreakdowns`` ``ITEM`` and ``SHIPPING`` (the tax on
  the item and on its shipping, ``shipping_tax``), as v0's ``ItemTax`` and ``ShippingTax`` do.
- ``packages`` exist only for seller-fulfilled orders; a confirmed package shows the ship date
  the seller sent as ``shipTime``.
- Units the seller cancelled are neither fulfilled nor unfulfilled, and the item shows a
  ``cancellationExecution`` by MERCHANT. Refunds (adjustments) do not show here: Amazon reports
  them in the Finances API; the control API's order view lists them.
- v0 without a restricted data token shows only the non-PII part of the shipping address and
  no ``BuyerInfo``; the sandbox issues no RDTs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# INCLUDED_DATA is the rules' list, named here too: what callers draw with.
from infra.amazon.sandbox.rules.included import INCLUDED_DATA as INCLUDED_DATA
from infra.amazon.sandbox.rules.included import select
from infra.amazon.sandbox.state import (
    MARKETPLACES,
    SandboxFeed,
    SandboxItem,
    SandboxOrder,
    SandboxPackage,
    deep_merge,
    iso,
    money,
)

# What the line's tax falls on: the adjustment feed's limits and the financial events read it
# from the same place (``state.charges``).
from infra.amazon.sandbox.state import shipping_tax as shipping_tax

V0_STATUS = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}
V0_CHANNEL = {"MERCHANT": "MFN", "AMAZON": "AFN"}
_V0_SERVICE_CATEGORY = {
    "STANDARD": "Standard",
    "EXPEDITED": "Expedited",
    "FREE_ECONOMY": "FreeEconomy",
    "NEXT_DAY": "NextDay",
    "SECOND_DAY": "SecondDay",
    "SAME_DAY": "SameDay",
    "PRIORITY": "Priority",
    "SCHEDULED": "Scheduled",
}


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(amount), "currencyCode": currency}


def _money_v0(amount: Decimal, currency: str) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": str(amount)}


def _line_total(item: SandboxItem) -> Decimal:
    return item.unit_price * item.quantity + item.shipping_price + item.tax


def _item_2026(order: SandboxOrder, item: SandboxItem) -> dict[str, Any]:
    currency = order.currency
    product: dict[str, Any] = {
        "asin": item.asin,
        "title": item.title,
        "sellerSku": item.sku,
        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
    }
    drawn: dict[str, Any] = {
        "orderItemId": item.order_item_id,
        "quantityOrdered": item.quantity,
        "product": product,
        "fulfillment": {
            "quantityFulfilled": item.quantity_shipped,
            "quantityUnfulfilled": max(item.quantity_open, 0),
        },
    }
    if not order.pending:
        price: dict[str, Any] = {"unitPrice": _money(item.unit_price, currency)}
        if order.business:
            price["priceDesignation"] = "BUSINESS_PRICE"
        product["price"] = price
        breakdowns: list[dict[str, Any]] = [
            {"type": "ITEM", "subtotal": _money(item.unit_price * item.quantity, currency)}
        ]
        if item.shipping_price:
            breakdowns.append(
                {"type": "SHIPPING", "subtotal": _money(item.shipping_price, currency)}
            )
        if item.tax:
            ship_tax = shipping_tax(item, currency)
            breakdowns.append(
                {
                    "type": "TAX",
                    "subtotal": _money(item.tax, currency),
                    "detailedBreakdowns": [
                        {"subtype": "ITEM", "value": _money(item.tax - ship_tax, currency)},
                        {"subtype": "SHIPPING", "value": _money(ship_tax, currency)},
                    ],
                }
            )
        drawn["proceeds"] = {
            "proceedsTotal": _money(_line_total(item), currency),
            "breakdowns": breakdowns,
        }
        if item.tax:
            drawn["tax"] = {
                "taxCollections": [
                    {"model": "MARKETPLACE_FACILITATOR", "responsibleParty": "AMAZON_SERVICES"}
                ]
            }
    cancellation: dict[str, Any] = {}
    if item.cancel_reason is not None:
        cancellation["cancellationRequest"] = {
            "requester": "BUYER",
            "cancelReason": item.cancel_reason,
        }
    if item.seller_cancel_reason is not None:
        # The seller cancelled units (acknowledgement or adjustment feed).
        cancellation["cancellationExecution"] = {
            "cancelledBy": "MERCHANT",
            "cancelReason": item.seller_cancel_reason,
        }
    elif order.status == "CANCELLED":
        cancellation["cancellationExecution"] = {
            "cancelledBy": "MERCHANT" if item.cancel_reason is not None else "AMAZON",
            "cancelReason": item.cancel_reason or "Order cancelled",
        }
    if cancellation:
        drawn["cancellation"] = cancellation
    return drawn


def order_2026_full(order: SandboxOrder) -> dict[str, Any]:
    """Every section of the order, overrides merged in; ``order_2026`` then selects."""
    marketplace = MARKETPLACES[order.marketplace_id]
    programs = [p for p, on in (("AMAZON_BUSINESS", order.business), ("PRIME", order.prime)) if on]
    drawn: dict[str, Any] = {
        "orderId": order.order_id,
        "createdTime": iso(order.created_at),
        "lastUpdatedTime": iso(order.updated_at),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": order.marketplace_id,
            "marketplaceName": marketplace.name,
        },
    }
    if programs:
        drawn["programs"] = programs
    if order.replacement_of:
        drawn["associatedOrders"] = [
            {"orderId": order.replacement_of, "associationType": "REPLACEMENT_ORIGINAL_ID"}
        ]
    if not order.missing_buyer:
        buyer = {"buyerName": order.buyer_name, "buyerEmail": order.buyer_email}
        if order.buyer_company:
            buyer["buyerCompanyName"] = order.buyer_company
        if order.purchase_order_number:
            buyer["buyerPurchaseOrderNumber"] = order.purchase_order_number
        drawn["buyer"] = buyer
    if not order.pending:
        address = dict(order.address)
        if order.fulfilled_by == "AMAZON":
            address.pop("phone", None)  # Amazon suppresses the phone on FBA orders
        drawn["recipient"] = {"deliveryAddress": address}
        items = order.items
        totals = {
            "ITEM": sum((i.unit_price * i.quantity for i in items), Decimal(0)),
            "SHIPPING": sum((i.shipping_price for i in items), Decimal(0)),
            "TAX": sum((i.tax for i in items), Decimal(0)),
        }
        grand = sum(totals.values(), Decimal(0))
        drawn["proceeds"] = {
            "grandTotal": _money(grand, order.currency),
            "breakdowns": [
                {"type": kind, "subtotal": _money(amount, order.currency)}
                for kind, amount in totals.items()
                if amount or kind == "ITEM"
            ],
        }
        drawn["payment"] = {
            "paymentExecutions": [
                {"paymentMethod": "CreditCard", "paymentAmount": _money(grand, order.currency)}
            ]
        }
    fulfillment: dict[str, Any] = {
        "fulfillmentStatus": order.status,
        "fulfilledBy": order.fulfilled_by,
        "fulfillmentServiceLevel": order.service_level,
    }
    if order.fulfilled_by == "MERCHANT" and order.ship_by and order.deliver_by:
        fulfillment["shipByWindow"] = {
            "earliestDateTime": iso(order.ship_by[0]),
            "latestDateTime": iso(order.ship_by[1]),
        }
        fulfillment["deliverByWindow"] = {
            "earliestDateTime": iso(order.deliver_by[0]),
            "latestDateTime": iso(order.deliver_by[1]),
        }
    drawn["fulfillment"] = fulfillment
    drawn["orderItems"] = [_item_2026(order, item) for item in order.items]
    if order.fulfilled_by == "MERCHANT" and order.packages:
        drawn["packages"] = [_package(p) for p in order.packages]
    return deep_merge(drawn, order.overrides) if order.overrides else drawn


def _package(package: SandboxPackage) -> dict[str, Any]:
    """An ``OrderPackage``; the ship time is the ship date the seller confirmed."""
    drawn: dict[str, Any] = {
        "packageReferenceId": package.package_reference_id,
        "createdTime": iso(package.created_time),
        "packageStatus": {"status": package.status},
        "carrier": package.carrier,
        "shipTime": iso(package.ship_time),
    }
    if package.shipping_service:
        drawn["shippingService"] = package.shipping_service
    if package.tracking_number:
        drawn["trackingNumber"] = package.tracking_number
    items: list[dict[str, Any]] = []
    for item_id, quantity in package.items:
        line: dict[str, Any] = {"orderItemId": item_id, "quantity": quantity}
        codes = package.transparency_codes.get(item_id)
        if codes:
            line["transparencyCodes"] = list(codes)
        items.append(line)
    drawn["packageItems"] = items
    return drawn


def order_2026(order: SandboxOrder, included: frozenset[str]) -> dict[str, Any]:
    return select(order_2026_full(order), included)


def order_v0(order: SandboxOrder) -> dict[str, Any]:
    """The v0 ``Order`` (PascalCase, ``Amount`` as a string, booleans for programs)."""
    marketplace = MARKETPLACES[order.marketplace_id]
    shipped = sum(i.quantity_shipped for i in order.items)
    unshipped = (
        0 if order.status == "CANCELLED" else sum(max(i.quantity_open, 0) for i in order.items)
    )
    drawn: dict[str, Any] = {
        "AmazonOrderId": order.order_id,
        "PurchaseDate": iso(order.created_at),
        "LastUpdateDate": iso(order.updated_at),
        "OrderStatus": V0_STATUS[order.status],
        "FulfillmentChannel": V0_CHANNEL[order.fulfilled_by],
        "SalesChannel": marketplace.name,
        "ShipServiceLevel": f"Std {marketplace.country_code} Dom",
        "ShipmentServiceLevelCategory": _V0_SERVICE_CATEGORY.get(order.service_level, "Standard"),
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": unshipped,
        "MarketplaceId": order.marketplace_id,
        "OrderType": "StandardOrder",
        "IsBusinessOrder": order.business,
        "IsPrime": order.prime,
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": order.replacement_of is not None,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
    }
    if order.replacement_of:
        drawn["ReplacedOrderId"] = order.replacement_of
    if order.fulfilled_by == "MERCHANT" and order.ship_by and order.deliver_by:
        drawn["EarliestShipDate"] = iso(order.ship_by[0])
        drawn["LatestShipDate"] = iso(order.ship_by[1])
        drawn["EarliestDeliveryDate"] = iso(order.deliver_by[0])
        drawn["LatestDeliveryDate"] = iso(order.deliver_by[1])
    if not order.pending:
        total = sum((_line_total(i) for i in order.items), Decimal(0))
        drawn["OrderTotal"] = _money_v0(total, order.currency)
        drawn["PaymentMethod"] = "Other"
        drawn["PaymentMethodDetails"] = ["Standard"]
        address = order.address
        drawn["ShippingAddress"] = {
            "City": address.get("city", ""),
            "StateOrRegion": address.get("stateOrRegion", ""),
            "PostalCode": address.get("postalCode", ""),
            "CountryCode": address.get("countryCode", ""),
        }
    return drawn


def order_items_v0(order: SandboxOrder) -> list[dict[str, Any]]:
    """The v0 ``OrderItem`` list: prices are line totals (unit price x quantity)."""
    currency = order.currency
    drawn: list[dict[str, Any]] = []
    for item in order.items:
        line: dict[str, Any] = {
            "ASIN": item.asin,
            "OrderItemId": item.order_item_id,
            "SellerSKU": item.sku,
            "Title": item.title,
            "QuantityOrdered": item.quantity,
            "QuantityShipped": item.quantity_shipped,
            "ProductInfo": {"NumberOfItems": "1"},
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IsTransparency": False,
            "SerialNumberRequired": False,
            "BuyerRequestedCancel": {
                "IsBuyerRequestedCancel": "true" if item.cancel_reason is not None else "false",
                "BuyerCancelReason": item.cancel_reason or "",
            },
        }
        if not order.pending:
            line["ItemPrice"] = _money_v0(item.unit_price * item.quantity, currency)
            ship_tax = shipping_tax(item, currency)
            line["ItemTax"] = _money_v0(item.tax - ship_tax, currency)
            line["ShippingPrice"] = _money_v0(item.shipping_price, currency)
            line["ShippingTax"] = _money_v0(ship_tax, currency)
            line["PromotionDiscount"] = _money_v0(money(Decimal(0), currency), currency)
            line["IsGift"] = "false"
            if order.business:
                line["PriceDesignation"] = "BusinessPrice"
        drawn.append(line)
    return drawn


def feed_json(feed: SandboxFeed) -> dict[str, Any]:
    """The Feeds API model's ``Feed``."""
    drawn: dict[str, Any] = {
        "feedId": feed.feed_id,
        "feedType": feed.feed_type,
        "marketplaceIds": list(feed.marketplace_ids),
        "createdTime": iso(feed.created_at),
        "processingStatus": feed.status,
    }
    if feed.started_at is not None:
        drawn["processingStartTime"] = iso(feed.started_at)
    if feed.ended_at is not None:
        drawn["processingEndTime"] = iso(feed.ended_at)
    if feed.result_document_id is not None:
        drawn["resultFeedDocumentId"] = feed.result_document_id
    return drawn
