"""Orders v0 (deprecated reads) as pydantic models: ``getOrders`` and ``getOrderItems`` payloads.

v0 speaks PascalCase and sends some booleans as the strings ``"true"``/``"false"``; they are
kept as Amazon sends them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, Field, model_validator

from infra.amazon.schemas._base import PascalModel, UnparsedOrder, split_orders


class MoneyV0(PascalModel):
    currency_code: str
    amount: Decimal


class BuyerRequestedCancelV0(PascalModel):
    is_buyer_requested_cancel: str | None = None  # "true" / "false", as Amazon sends it
    buyer_cancel_reason: str | None = None


class OrderV0(PascalModel):
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


class OrderItemV0(PascalModel):
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


class GetOrdersV0Payload(PascalModel):
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
            good, bad = split_orders(data["Orders"], OrderV0, "AmazonOrderId")
            data = {**data, "Orders": good, "UnparsedOrders": bad}
        return data


class GetOrderItemsV0Payload(PascalModel):
    """``getOrderItems``' ``payload`` (the client joins all NextToken pages into one)."""

    amazon_order_id: str
    order_items: list[OrderItemV0] = []
    next_token: str | None = None
