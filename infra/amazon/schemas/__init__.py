"""Pydantic models of what we read from SP-API, validated at the edge (``infra.amazon.api``).

One module per API family (``orders``, ``orders_v0``, ``finances``); this package hands on all
of them.
Tolerant the way a client of someone else's API must be:

- Unknown fields are ignored; Amazon adds fields without a new version.
- Amazon's enums (fulfillment status, programs, package status, v0 ``OrderStatus`` ...) are plain
  ``str``: a value Amazon adds tomorrow must reach the ingestion, which decides what an unknown
  value means (``infra.amazon.translate`` sets such an order aside). No ``Enum`` here on purpose.
- Money is ``Decimal`` plus currency, never float (v0 sends ``Amount`` as a string, 2026 as a
  decimal string).
- Timestamps are parsed to timezone-aware ``datetime``; a naive or unparseable one is an error.
  One bad field should not lose a page, so the *list* responses (``SearchOrdersResponse``,
  ``GetOrdersV0Payload``) validate each order on its own and set a bad one aside in
  ``unparsed_orders`` with its raw JSON and the reason, while the others parse. (Keeping every
  timestamp as ``str`` would push the same parsing, and the same failure, onto every caller.)
- Free-text and odd-typed fields stay as Amazon sends them: v0 ``IsGift`` and
  ``IsBuyerRequestedCancel`` are the strings ``"true"``/``"false"``; nested objects we do not use
  (delivery preferences, tax registrations, payment executions ...) are kept as plain dicts.

Fields holding buyer PII (buyer, recipient, addresses) are left out of ``repr`` so a model that
ends up in a log line does not carry them.
"""

from infra.amazon.schemas._base import UnparsedOrder
from infra.amazon.schemas.finances import (
    ChargeComponent,
    Currency,
    FeeComponent,
    FinancialEventGroup,
    FinancialEvents,
    ListFinancialEventGroupsPayload,
    ListFinancialEventsPayload,
    ShipmentEvent,
    ShipmentItem,
    UnparsedEvent,
)
from infra.amazon.schemas.orders import (
    Alias,
    AssociatedOrder,
    AssociatedOrderItem,
    Buyer,
    CancellationExecution,
    CancellationRequest,
    CustomerAddress,
    DateTimeRange,
    GetOrderResponse,
    ItemCancellation,
    ItemCondition,
    ItemFulfillment,
    ItemPrice,
    ItemProceeds,
    ItemProceedsBreakdown,
    ItemProceedsDetail,
    ItemProduct,
    ItemPromotion,
    ItemPromotionBreakdown,
    Money,
    Order,
    OrderFulfillment,
    OrderItem,
    OrderPackage,
    OrderProceeds,
    PackageItem,
    PackageStatus,
    Pagination,
    ProceedsBreakdown,
    Recipient,
    SalesChannel,
    SearchOrdersResponse,
)
from infra.amazon.schemas.orders_v0 import (
    BuyerRequestedCancelV0,
    GetOrderItemsV0Payload,
    GetOrdersV0Payload,
    MoneyV0,
    OrderItemV0,
    OrderV0,
)

__all__ = [
    "Alias",
    "AssociatedOrder",
    "AssociatedOrderItem",
    "Buyer",
    "BuyerRequestedCancelV0",
    "CancellationExecution",
    "CancellationRequest",
    "ChargeComponent",
    "Currency",
    "CustomerAddress",
    "DateTimeRange",
    "FeeComponent",
    "FinancialEventGroup",
    "FinancialEvents",
    "GetOrderItemsV0Payload",
    "GetOrderResponse",
    "GetOrdersV0Payload",
    "ItemCancellation",
    "ItemCondition",
    "ItemFulfillment",
    "ItemPrice",
    "ItemProceeds",
    "ItemProceedsBreakdown",
    "ItemProceedsDetail",
    "ItemProduct",
    "ItemPromotion",
    "ItemPromotionBreakdown",
    "ListFinancialEventGroupsPayload",
    "ListFinancialEventsPayload",
    "Money",
    "MoneyV0",
    "Order",
    "OrderFulfillment",
    "OrderItem",
    "OrderItemV0",
    "OrderPackage",
    "OrderProceeds",
    "OrderV0",
    "PackageItem",
    "PackageStatus",
    "Pagination",
    "ProceedsBreakdown",
    "Recipient",
    "SalesChannel",
    "SearchOrdersResponse",
    "ShipmentEvent",
    "ShipmentItem",
    "UnparsedEvent",
    "UnparsedOrder",
]
