"""POST_ORDER_FULFILLMENT_DATA: each message is one package, checked and applied exactly like
``confirmShipment`` (``rules.shipments``).

``MerchantFulfillmentID`` is the package reference (a resend edits the package; without it a
new package gets the next free number). ``FulfillmentData`` needs ``CarrierCode`` or
``CarrierName`` (alone it means ``Other``); ``ShipperTrackingNumber`` is optional as in the XSD.
No ``Item``: every unshipped unit; an ``Item`` without ``Quantity``: every unshipped unit of
that item.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from infra.amazon.sandbox.feeds.envelope import (
    CODE_INVALID,
    CODE_ORDER_STATE,
    CODE_SCHEMA,
    MessageError,
    child_text,
    children_named,
    first_child,
    item_id_of,
    order_of,
    positive_int,
)
from infra.amazon.sandbox.rules.shipments import (
    PackageConfirmation,
    ShipmentRefused,
    check_package_reference_id,
    confirm_package,
    next_package_reference_id,
    parse_ship_date,
)
from infra.amazon.sandbox.state import SandboxFeed, SandboxState


def fulfil(
    state: SandboxState, feed: SandboxFeed, body: Element, message_id: int
) -> dict[str, Any]:
    path = "OrderFulfillment"
    order = order_of(state, feed, body, path)
    try:
        reference = child_text(body, "MerchantFulfillmentID")
        if reference is not None:
            check_package_reference_id(reference, f"{path}/MerchantFulfillmentID")
        else:
            reference = next_package_reference_id(order)
        ship_date = parse_ship_date(child_text(body, "FulfillmentDate"), f"{path}/FulfillmentDate")
        data = first_child(body, "FulfillmentData")
        carrier_code = child_text(data, "CarrierCode")
        carrier_name = child_text(data, "CarrierName")
        if carrier_code is None and carrier_name is None:
            raise MessageError(
                CODE_SCHEMA, f"{path}/FulfillmentData/CarrierCode (or CarrierName) is required"
            )
        if carrier_code is None:
            carrier_code = "Other"  # the XSD's choice: a CarrierName alone is an unlisted carrier
        if carrier_code == "Other" and carrier_name is None:
            raise MessageError(
                CODE_SCHEMA,
                f'{path}/FulfillmentData/CarrierName is required for CarrierCode "Other"',
            )
        items: list[tuple[str, int | None]] = []
        for index, element in enumerate(children_named(body, "Item")):
            where = f"{path}/Item[{index}]"
            raw_quantity = child_text(element, "Quantity")
            quantity = (
                None if raw_quantity is None else positive_int(raw_quantity, f"{where}/Quantity")
            )
            items.append((item_id_of(element, where), quantity))
        confirmation = PackageConfirmation(
            package_reference_id=reference,
            carrier_code=carrier_code,
            carrier_name=carrier_name,
            shipping_method=child_text(data, "ShippingMethod"),
            tracking_number=child_text(data, "ShipperTrackingNumber"),
            ship_date=ship_date,
            items=tuple(items) if items else None,
            ship_from_supply_source_id=child_text(body, "ShipFromSupplySourceId"),
            field_prefix=f"{path}/",
            item_field="Item",
            item_id_field="AmazonOrderItemCode",
        )
        edited = any(p.package_reference_id == reference for p in order.packages)
        package = confirm_package(state, order, confirmation)
    except ShipmentRefused as exc:
        code = CODE_ORDER_STATE if exc.order_state else CODE_INVALID
        raise MessageError(code, exc.message, order_id=order.order_id) from None
    except MessageError as exc:
        exc.order_id = order.order_id
        raise
    return {
        "package_reference_id": package.package_reference_id,
        "edited": edited,
        "items": [{"order_item_id": i, "quantity": q} for i, q in package.items],
    }
