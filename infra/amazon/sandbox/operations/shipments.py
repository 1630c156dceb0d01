"""``ordersV0.confirmShipment``: the request read in the model's terms, then one package
confirmed or edited by Amazon's rules (``rules.shipments``); 204 without a body.

Refusals of the request name the field in the model's terms: ``marketplaceId`` /
``packageDetail`` missing; ``packageReferenceId`` not a positive numeric string; ``carrierCode``
missing; ``carrierName`` missing when the code is ``Other``; ``trackingNumber`` missing;
``shipDate`` not an ISO 8601 date-time; an item without an id or with a quantity that is not a
positive integer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.amazon.sandbox.operations.call import Call, json_body, own_order, refusals
from infra.amazon.sandbox.rules.shipments import (
    OTHER_CARRIER,
    PackageConfirmation,
    ShipmentRefused,
    check_package_reference_id,
    confirm_package,
    parse_ship_date,
    text_or_none,
)

COD_COLLECTION_METHODS = ("DirectPayment",)


def _optional_text(detail: Mapping[str, Any], name: str) -> str | None:
    if name not in detail or detail[name] is None:
        return None
    value = text_or_none(detail[name])
    if value is None:
        raise ShipmentRefused(f"packageDetail.{name} must be a non-empty string")
    return value


def parse_confirm_shipment(body: Any) -> tuple[str, PackageConfirmation]:
    """``ConfirmShipmentRequest`` (ordersV0.json) as (marketplaceId, package); refusals name
    the field in the model's terms."""
    if not isinstance(body, dict):
        raise ShipmentRefused("The request body must be a ConfirmShipmentRequest JSON object")
    marketplace_id = text_or_none(body.get("marketplaceId"))
    if marketplace_id is None:
        raise ShipmentRefused("marketplaceId is required")
    cod = body.get("codCollectionMethod")
    if cod is not None and cod not in COD_COLLECTION_METHODS:
        raise ShipmentRefused(f"codCollectionMethod must be one of {list(COD_COLLECTION_METHODS)}")
    detail = body.get("packageDetail")
    if detail is None:
        raise ShipmentRefused("packageDetail is required")
    if not isinstance(detail, dict):
        raise ShipmentRefused("packageDetail must be an object")

    raw_reference = detail.get("packageReferenceId")
    reference = text_or_none(raw_reference)
    if reference is None:
        raise ShipmentRefused("packageDetail.packageReferenceId is required")
    check_package_reference_id(reference, "packageDetail.packageReferenceId")
    carrier_code = text_or_none(detail.get("carrierCode"))
    if carrier_code is None:
        raise ShipmentRefused("packageDetail.carrierCode is required")
    carrier_name = _optional_text(detail, "carrierName")
    if carrier_code == OTHER_CARRIER and carrier_name is None:
        raise ShipmentRefused('packageDetail.carrierName is required when carrierCode is "Other"')
    tracking_number = text_or_none(detail.get("trackingNumber"))
    if tracking_number is None:
        raise ShipmentRefused("packageDetail.trackingNumber is required")
    ship_date = parse_ship_date(detail.get("shipDate"), "packageDetail.shipDate")

    raw_items = detail.get("orderItems")
    if raw_items is None:
        raise ShipmentRefused("packageDetail.orderItems is required")
    if not isinstance(raw_items, list) or not raw_items:
        raise ShipmentRefused("packageDetail.orderItems must be a non-empty list")
    items: list[tuple[str, int | None]] = []
    codes: dict[str, tuple[str, ...]] = {}
    for index, raw in enumerate(raw_items):
        where = f"packageDetail.orderItems[{index}]"
        if not isinstance(raw, dict):
            raise ShipmentRefused(f"{where} must be an object")
        item_id = text_or_none(raw.get("orderItemId"))
        if item_id is None:
            raise ShipmentRefused(f"{where}.orderItemId is required")
        quantity = raw.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ShipmentRefused(f"{where}.quantity must be an integer")
        if quantity <= 0:
            raise ShipmentRefused(f"{where}.quantity must be greater than 0, not {quantity}")
        transparency = raw.get("transparencyCodes")
        if transparency is not None:
            if not isinstance(transparency, list) or not all(
                isinstance(c, str) and c for c in transparency
            ):
                raise ShipmentRefused(f"{where}.transparencyCodes must be a list of strings")
            codes[item_id] = tuple(transparency)
        items.append((item_id, quantity))

    return marketplace_id, PackageConfirmation(
        package_reference_id=reference,
        carrier_code=carrier_code,
        carrier_name=carrier_name,
        shipping_method=_optional_text(detail, "shippingMethod"),
        tracking_number=tracking_number,
        ship_date=ship_date,
        items=tuple(items),
        transparency_codes=codes,
        ship_from_supply_source_id=_optional_text(detail, "shipFromSupplySourceId"),
    )


def confirm_shipment(call: Call) -> tuple[int, dict[str, Any] | None]:
    """One package confirmed or edited (``rules.shipments``); 204 without a body."""
    body = json_body(call)
    with refusals():
        marketplace_id, confirmation = parse_confirm_shipment(body)
    with call.state.lock, refusals():
        order = own_order(call)
        if marketplace_id != order.marketplace_id:
            raise ShipmentRefused(
                f"marketplaceId {marketplace_id} is not the marketplace of order "
                f"{order.order_id} ({order.marketplace_id})"
            )
        confirm_package(call.state, order, confirmation)
    return 204, None
