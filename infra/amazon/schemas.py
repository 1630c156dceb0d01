"""Pydantic models of what we read from SP-API, validated at the edge (the client).

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

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel, to_pascal


class _Camel(BaseModel):
    """Orders 2026-01-01, Feeds, Reports: lower camelCase JSON, snake_case Python."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, alias_generator=to_camel, frozen=True
    )


class _Pascal(BaseModel):
    """Orders v0: PascalCase JSON (acronyms such as ASIN and CODFee get explicit aliases)."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, alias_generator=to_pascal, frozen=True
    )


class UnparsedOrder(BaseModel):
    """An order from a list response that did not validate: kept raw, with the reason."""

    model_config = ConfigDict(frozen=True)

    order_id: str | None
    error: str
    raw: dict[str, Any] = Field(repr=False)


def _split_orders(
    items: list[Any], model: type[Order] | type[OrderV0], id_field: str
) -> tuple[list[Any], list[UnparsedOrder]]:
    good: list[Any] = []
    bad: list[UnparsedOrder] = []
    for item in items:
        try:
            good.append(model.model_validate(item))
        except ValidationError as exc:
            raw = item if isinstance(item, dict) else {"value": item}
            order_id = raw.get(id_field)
            bad.append(
                UnparsedOrder(
                    order_id=order_id if isinstance(order_id, str) else None,
                    error=_short_error(exc),
                    raw=raw,
                )
            )
    return good, bad


def _short_error(exc: ValidationError) -> str:
    """Where and what, without echoing the input values (they may hold PII)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


# -- Orders v2026-01-01 ------------------------------------------------------------------------


class Money(_Camel):
    amount: Decimal
    currency_code: str


class DateTimeRange(_Camel):
    earliest_date_time: AwareDatetime | None = None
    latest_date_time: AwareDatetime | None = None


class Alias(_Camel):
    alias_id: str
    alias_type: str  # SELLER_ORDER_ID today


class AssociatedOrder(_Camel):
    order_id: str | None = None
    association_type: str | None = None


class SalesChannel(_Camel):
    channel_name: str  # AMAZON | NON_AMAZON
    marketplace_id: str | None = None
    marketplace_name: str | None = None


class Buyer(_Camel):
    buyer_name: str | None = None
    buyer_email: str | None = None
    buyer_company_name: str | None = None
    buyer_purchase_order_number: str | None = None


class CustomerAddress(_Camel):
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


class Recipient(_Camel):
    delivery_address: CustomerAddress | None = None
    delivery_preference: dict[str, Any] | None = None


class ProceedsBreakdown(_Camel):
    type: str  # ITEM | SHIPPING | GIFT_WRAP | COD_FEE | TAX | DISCOUNT | DELIVERY_TIP | OTHER
    status: str | None = None
    subtotal: Money


class OrderProceeds(_Camel):
    grand_total: Money | None = None
    breakdowns: list[ProceedsBreakdown] = []


class OrderFulfillment(_Camel):
    fulfillment_status: str  # PENDING_AVAILABILITY, PENDING, UNSHIPPED, ... (open set)
    fulfilled_by: str | None = None  # MERCHANT | AMAZON
    fulfillment_service_level: str | None = None
    ship_by_window: DateTimeRange | None = None
    deliver_by_window: DateTimeRange | None = None
    label_printing_window: DateTimeRange | None = None


class ItemCondition(_Camel):
    condition_type: str | None = None
    condition_subtype: str | None = None
    condition_note: str | None = None


class ItemPrice(_Camel):
    unit_price: Money | None = None
    price_designation: str | None = None


class ItemProduct(_Camel):
    asin: str | None = None
    title: str | None = None
    seller_sku: str | None = None
    condition: ItemCondition | None = None
    price: ItemPrice | None = None
    serial_numbers: list[str] = []
    customization: dict[str, Any] | None = None


class ItemProceedsDetail(_Camel):
    subtype: str | None = None
    value: Money | None = None


class ItemProceedsBreakdown(_Camel):
    type: str
    subtotal: Money
    detailed_breakdowns: list[ItemProceedsDetail] = []


class ItemProceeds(_Camel):
    proceeds_total: Money | None = None
    breakdowns: list[ItemProceedsBreakdown] = []


class ItemPromotionBreakdown(_Camel):
    promotion_id: str | None = None


class ItemPromotion(_Camel):
    breakdowns: list[ItemPromotionBreakdown] = []


class CancellationRequest(_Camel):
    """A cancellation the buyer (or Amazon) asked for; the seller still has to act on it."""

    requester: str | None = None  # BUYER
    cancel_reason: str | None = None


class CancellationExecution(_Camel):
    cancelled_by: str | None = None
    cancel_reason: str | None = None


class ItemCancellation(_Camel):
    cancellation_request: CancellationRequest | None = None
    cancellation_execution: CancellationExecution | None = None


class ItemFulfillment(_Camel):
    quantity_fulfilled: int | None = None
    quantity_unfulfilled: int | None = None
    picking: dict[str, Any] | None = None
    packing: dict[str, Any] | None = None
    shipping: dict[str, Any] | None = None


class AssociatedOrderItem(_Camel):
    order_id: str | None = None
    order_item_id: str | None = None
    association_type: str | None = None


class OrderItem(_Camel):
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


class PackageStatus(_Camel):
    status: str  # PENDING | IN_TRANSIT | SHIPPED | DELIVERED | CANCELLED | UNDELIVERABLE (open)
    detailed_status: str | None = None


class PackageItem(_Camel):
    order_item_id: str
    quantity: int
    transparency_codes: list[str] = []


class OrderPackage(_Camel):
    package_reference_id: str
    created_time: AwareDatetime | None = None
    package_status: PackageStatus | None = None
    carrier: str | None = None
    ship_time: AwareDatetime | None = None
    shipping_service: str | None = None
    tracking_number: str | None = None
    ship_from_address: dict[str, Any] | None = Field(default=None, repr=False)
    package_items: list[PackageItem] = []


class Order(_Camel):
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


class Pagination(_Camel):
    next_token: str | None = None


class SearchOrdersResponse(_Camel):
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
            good, bad = _split_orders(data["orders"], Order, "orderId")
            data = {**data, "orders": good, "unparsedOrders": bad}
        return data

    @property
    def next_token(self) -> str | None:
        return (
            self.pagination.next_token if self.pagination and self.pagination.next_token else None
        )


class GetOrderResponse(_Camel):
    order: Order


# -- Orders v0 ---------------------------------------------------------------------------------


class MoneyV0(_Pascal):
    currency_code: str
    amount: Decimal


class BuyerRequestedCancelV0(_Pascal):
    is_buyer_requested_cancel: str | None = None  # "true" / "false", as Amazon sends it
    buyer_cancel_reason: str | None = None


class OrderV0(_Pascal):
    """A v0 ``getOrders`` order (deprecated API; kept for the v0-only flows and comparisons)."""

    amazon_order_id: str
    purchase_date: AwareDatetime
    last_update_date: AwareDatetime
    order_status: str  # Pending, Unshipped, PartiallyShipped, Shipped, Canceled, ... (open set)
    seller_order_id: str | None = None
    fulfillment_channel: str | None = None  # MFN | AFN
    sales_channel: str | None = None
    order_channel: str | None = None
    ship_service_level: str | None = None
    shipment_service_level_category: str | None = None
    order_total: MoneyV0 | None = None
    number_of_items_shipped: int | None = None
    number_of_items_unshipped: int | None = None
    payment_method: str | None = None
    payment_method_details: list[str] = []
    marketplace_id: str | None = None
    order_type: str | None = None
    earliest_ship_date: AwareDatetime | None = None
    latest_ship_date: AwareDatetime | None = None
    earliest_delivery_date: AwareDatetime | None = None
    latest_delivery_date: AwareDatetime | None = None
    is_business_order: bool | None = None
    is_prime: bool | None = None
    is_premium_order: bool | None = None
    is_global_express_enabled: bool | None = None
    is_replacement_order: bool | None = None
    replaced_order_id: str | None = None
    is_sold_by_ab: bool | None = Field(default=None, alias="IsSoldByAB")
    is_iba: bool | None = Field(default=None, alias="IsIBA")
    is_ispu: bool | None = Field(default=None, alias="IsISPU")
    is_access_point_order: bool | None = None
    has_regulated_items: bool | None = None
    easy_ship_shipment_status: str | None = None
    electronic_invoice_status: str | None = None
    shipping_address: dict[str, Any] | None = Field(default=None, repr=False)
    buyer_info: dict[str, Any] | None = Field(default=None, repr=False)


class OrderItemV0(_Pascal):
    asin: str = Field(alias="ASIN")
    order_item_id: str
    quantity_ordered: int
    seller_sku: str | None = Field(default=None, alias="SellerSKU")
    title: str | None = None
    quantity_shipped: int | None = None
    item_price: MoneyV0 | None = None  # unit price x quantity
    item_tax: MoneyV0 | None = None
    shipping_price: MoneyV0 | None = None
    shipping_tax: MoneyV0 | None = None
    shipping_discount: MoneyV0 | None = None
    shipping_discount_tax: MoneyV0 | None = None
    promotion_discount: MoneyV0 | None = None
    promotion_discount_tax: MoneyV0 | None = None
    promotion_ids: list[str] = []
    cod_fee: MoneyV0 | None = Field(default=None, alias="CODFee")
    cod_fee_discount: MoneyV0 | None = Field(default=None, alias="CODFeeDiscount")
    is_gift: str | None = None  # "true" / "false"
    condition_id: str | None = None
    condition_subtype_id: str | None = None
    condition_note: str | None = None
    price_designation: str | None = None
    serial_number_required: bool | None = None
    is_transparency: bool | None = None
    ioss_number: str | None = None
    deemed_reseller_category: str | None = None
    scheduled_delivery_start_date: AwareDatetime | None = None
    scheduled_delivery_end_date: AwareDatetime | None = None
    buyer_requested_cancel: BuyerRequestedCancelV0 | None = None
    serial_numbers: list[str] = []
    buyer_info: dict[str, Any] | None = Field(default=None, repr=False)


class GetOrdersV0Payload(_Pascal):
    """``getOrders``' ``payload``; bad orders are set aside as in ``SearchOrdersResponse``."""

    orders: list[OrderV0] = []
    next_token: str | None = None
    created_before: AwareDatetime | None = None
    last_updated_before: AwareDatetime | None = None
    unparsed_orders: list[UnparsedOrder] = []

    @model_validator(mode="before")
    @classmethod
    def _set_aside_bad_orders(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("Orders"), list):
            good, bad = _split_orders(data["Orders"], OrderV0, "AmazonOrderId")
            data = {**data, "Orders": good, "UnparsedOrders": bad}
        return data


class GetOrderItemsV0Payload(_Pascal):
    """``getOrderItems``' ``payload`` (the client joins all NextToken pages into one)."""

    amazon_order_id: str
    order_items: list[OrderItemV0] = []
    next_token: str | None = None
