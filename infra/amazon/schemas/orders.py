"""Orders v2026-01-01 as pydantic models: ``searchOrders`` pages and ``getOrder``'s order.

Sections of an order depend on ``includedData``; a page validates each order on its own and sets
a bad one aside (``unparsed_orders``) so that one odd order never loses the page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, Field, model_validator

from infra.amazon.schemas._base import CamelModel, UnparsedOrder, split_orders


class Money(CamelModel):
    amount: Decimal
    currency_code: str


class DateTimeRange(CamelModel):
    earliest_date_time: AwareDatetime | None = None
    latest_date_time: AwareDatetime | None = None


class Alias(CamelModel):
    alias_id: str
    alias_type: str  # SELLER_ORDER_ID today


class AssociatedOrder(CamelModel):
    order_id: str | None = None
    association_type: str | None = None


class SalesChannel(CamelModel):
    channel_name: str  # AMAZON | NON_AMAZON
    marketplace_id: str | None = None
    marketplace_name: str | None = None


class Buyer(CamelModel):
    buyer_name: str | None = None
    buyer_email: str | None = None
    buyer_company_name: str | None = None
    buyer_purchase_order_number: str | None = None


class CustomerAddress(CamelModel):
    name: str | None = None
    company_name: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_line3: str | None = None
    city: str | None = None
    district_or_county: str | None = None
    state_or_region: str | None = None
    municipality: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None
    address_type: str | None = None


class Recipient(CamelModel):
    delivery_address: CustomerAddress | None = None
    delivery_preference: dict[str, Any] | None = None


class ProceedsBreakdown(CamelModel):
    type: str  # ITEM | SHIPPING | GIFT_WRAP | COD_FEE | TAX | DISCOUNT | DELIVERY_TIP | OTHER
    status: str | None = None
    subtotal: Money


class OrderProceeds(CamelModel):
    grand_total: Money | None = None
    breakdowns: list[ProceedsBreakdown] = []


class OrderFulfillment(CamelModel):
    fulfillment_status: str  # PENDING_AVAILABILITY, PENDING, UNSHIPPED, ... (open set)
    fulfilled_by: str | None = None  # MERCHANT | AMAZON
    fulfillment_service_level: str | None = None
    ship_by_window: DateTimeRange | None = None
    deliver_by_window: DateTimeRange | None = None
    label_printing_window: DateTimeRange | None = None


class ItemCondition(CamelModel):
    condition_type: str | None = None
    condition_subtype: str | None = None
    condition_note: str | None = None


class ItemPrice(CamelModel):
    unit_price: Money | None = None
    price_designation: str | None = None


class ItemProduct(CamelModel):
    asin: str | None = None
    title: str | None = None
    seller_sku: str | None = None
    condition: ItemCondition | None = None
    price: ItemPrice | None = None
    serial_numbers: list[str] = []
    customization: dict[str, Any] | None = None


class ItemProceedsDetail(CamelModel):
    subtype: str | None = None
    value: Money | None = None


class ItemProceedsBreakdown(CamelModel):
    type: str
    subtotal: Money
    detailed_breakdowns: list[ItemProceedsDetail] = []


class ItemProceeds(CamelModel):
    proceeds_total: Money | None = None
    breakdowns: list[ItemProceedsBreakdown] = []


class ItemPromotionBreakdown(CamelModel):
    promotion_id: str | None = None


class ItemPromotion(CamelModel):
    breakdowns: list[ItemPromotionBreakdown] = []


class CancellationRequest(CamelModel):
    """A cancellation the buyer (or Amazon) asked for; the seller still has to act on it."""

    requester: str | None = None  # BUYER
    cancel_reason: str | None = None


class CancellationExecution(CamelModel):
    cancelled_by: str | None = None
    cancel_reason: str | None = None


class ItemCancellation(CamelModel):
    cancellation_request: CancellationRequest | None = None
    cancellation_execution: CancellationExecution | None = None


class ItemFulfillment(CamelModel):
    quantity_fulfilled: int | None = None
    quantity_unfulfilled: int | None = None
    picking: dict[str, Any] | None = None
    packing: dict[str, Any] | None = None
    shipping: dict[str, Any] | None = None


class AssociatedOrderItem(CamelModel):
    order_id: str | None = None
    order_item_id: str | None = None
    association_type: str | None = None


class OrderItem(CamelModel):
    order_item_id: str
    quantity_ordered: int
    product: ItemProduct = ItemProduct()
    programs: list[str] = []
    measurement: dict[str, Any] | None = None
    associated_order_items: list[AssociatedOrderItem] = []
    proceeds: ItemProceeds | None = None
    expense: dict[str, Any] | None = None
    promotion: ItemPromotion | None = None
    cancellation: ItemCancellation | None = None
    fulfillment: ItemFulfillment | None = None
    tax: dict[str, Any] | None = None


class PackageStatus(CamelModel):
    status: str  # PENDING | IN_TRANSIT | SHIPPED | DELIVERED | CANCELLED | UNDELIVERABLE (open)
    detailed_status: str | None = None


class PackageItem(CamelModel):
    order_item_id: str
    quantity: int
    transparency_codes: list[str] = []


class OrderPackage(CamelModel):
    package_reference_id: str
    created_time: AwareDatetime | None = None
    package_status: PackageStatus | None = None
    carrier: str | None = None
    ship_time: AwareDatetime | None = None
    shipping_service: str | None = None
    tracking_number: str | None = None
    ship_from_address: dict[str, Any] | None = Field(default=None, repr=False)
    package_items: list[PackageItem] = []


class Order(CamelModel):
    """An order as ``searchOrders`` / ``getOrder`` return it; sections depend on includedData."""

    order_id: str
    created_time: AwareDatetime
    last_updated_time: AwareDatetime
    order_aliases: list[Alias] = []
    programs: list[str] = []  # AMAZON_BUSINESS, PRIME, PREORDER, ... (open set)
    associated_orders: list[AssociatedOrder] = []
    sales_channel: SalesChannel | None = None
    buyer: Buyer | None = Field(default=None, repr=False)
    recipient: Recipient | None = Field(default=None, repr=False)
    proceeds: OrderProceeds | None = None
    payment: dict[str, Any] | None = Field(default=None, repr=False)
    tax: dict[str, Any] | None = Field(default=None, repr=False)
    fulfillment: OrderFulfillment | None = None
    order_items: list[OrderItem] = []
    packages: list[OrderPackage] = []
    fulfillment_orders: list[dict[str, Any]] = []

    @property
    def seller_order_id(self) -> str | None:
        for alias in self.order_aliases:
            if alias.alias_type == "SELLER_ORDER_ID":
                return alias.alias_id
        return None


class Pagination(CamelModel):
    next_token: str | None = None


class SearchOrdersResponse(CamelModel):
    """One page of ``searchOrders``; ``unparsed_orders`` holds orders set aside (see module)."""

    orders: list[Order] = []
    pagination: Pagination | None = None
    last_updated_before: AwareDatetime | None = None
    created_before: AwareDatetime | None = None
    unparsed_orders: list[UnparsedOrder] = []

    @model_validator(mode="before")
    @classmethod
    def _set_aside_bad_orders(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("orders"), list):
            good, bad = split_orders(data["orders"], Order, "orderId")
            data = {**data, "orders": good, "unparsedOrders": bad}
        return data

    @property
    def next_token(self) -> str | None:
        return (
            self.pagination.next_token if self.pagination and self.pagination.next_token else None
        )


class GetOrderResponse(CamelModel):
    order: Order
