"""Amazon's rules for one package confirmation, shared by ``ordersV0.confirmShipment`` and the
order fulfillment feed, so the two ways of confirming can never disagree.

One confirmation is one package. The same ``packageReferenceId`` again edits that package
(carrier, tracking, ship date and items are replaced, quantities recomputed); any other id adds
a package. Shipped quantities and the order status are then derived from the packages
(``state.settle_fulfillment``), units newly shipped post a shipment financial event
(``state.finances``) and lastUpdatedTime moves. The ship date is stored as the seller sent it:
it is what Amazon holds against the latest ship date.

Refusals (``ShipmentRefused``, a 400 unless said otherwise) name the request field at fault:

- the order: fulfilled by Amazon, pending, cancelled or unfulfillable; another marketplace;
- the package: ``shipDate`` in the future (sandbox clock) or before the purchase; an unknown
  ``orderItemId``; more units than remain unshipped, counting every other package.

What the API's request must hold is ``operations.shipments``' business; what the feed's message
must hold is ``feeds.fulfilment``'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.state import (
    SandboxOrder,
    SandboxPackage,
    SandboxState,
    parse_iso,
    settle_fulfillment,
    whole_seconds,
)

PACKAGE_REFERENCE_ID = re.compile(r"^[0-9]{1,20}$")
OTHER_CARRIER = "Other"
_REFUSED_STATUSES = {
    "PENDING": "is pending",
    "PENDING_AVAILABILITY": "is pending availability",
    "CANCELLED": "is cancelled",
    "UNFULFILLABLE": "is unfulfillable",
}


class ShipmentRefused(SandboxError):
    """A confirmation Amazon would refuse. ``order_state`` is True when the request was fine
    but the order cannot take it (Amazon-fulfilled, pending, cancelled...)."""

    def __init__(self, message: str, *, status: int = 400, order_state: bool = False) -> None:
        super().__init__(message, status)
        self.order_state = order_state


@dataclass(frozen=True, slots=True)
class PackageConfirmation:
    """One package as the seller confirms it, parsed but not yet checked against the order.

    ``items`` None means "every unit still unshipped" (the fulfillment feed without ``Item``);
    an item quantity None means every unshipped unit of that item (``Item`` without
    ``Quantity``). ``field_prefix`` is how refusals name fields (``packageDetail.`` for the
    API, the XML path for the feed).
    """

    package_reference_id: str
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str | None
    ship_date: datetime
    items: tuple[tuple[str, int | None], ...] | None
    transparency_codes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ship_from_supply_source_id: str | None = None
    field_prefix: str = "packageDetail."
    item_field: str = "orderItems"
    item_id_field: str = "orderItemId"


def text_or_none(value: Any) -> str | None:
    """A non-blank string, stripped; anything else is None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def parse_ship_date(raw: Any, field_name: str) -> datetime:
    """An ISO 8601 date-time (a zone is optional; none means UTC, as Amazon reads it)."""
    text = text_or_none(raw)
    if text is None:
        raise ShipmentRefused(f"{field_name} is required")
    if "T" not in text and " " not in text:
        raise ShipmentRefused(f"{field_name} is not an ISO 8601 date-time: {text!r}")
    try:
        return parse_iso(text)
    except ValueError as exc:
        raise ShipmentRefused(f"{field_name} is not an ISO 8601 date-time: {text!r}") from exc


def check_package_reference_id(value: str, field_name: str) -> str:
    if not PACKAGE_REFERENCE_ID.match(value) or int(value) <= 0:
        raise ShipmentRefused(f"{field_name} must be a positive numeric string, not {value!r}")
    return value


def check_order_can_ship(order: SandboxOrder) -> None:
    """Only a seller-fulfilled order that is neither pending nor closed takes a package."""
    if order.fulfilled_by != "MERCHANT":
        raise ShipmentRefused(
            f"Order {order.order_id} is fulfilled by Amazon (AFN); only seller-fulfilled (MFN) "
            "orders can be confirmed",
            order_state=True,
        )
    refused = _REFUSED_STATUSES.get(order.status)
    if refused is not None:
        raise ShipmentRefused(
            f"Order {order.order_id} {refused} and cannot be confirmed", order_state=True
        )


def next_package_reference_id(order: SandboxOrder) -> str:
    """For a feed message without ``MerchantFulfillmentID``: one past the highest numeric id."""
    numeric = [
        int(p.package_reference_id) for p in order.packages if p.package_reference_id.isdigit()
    ]
    return str(max(numeric, default=0) + 1)


def confirm_package(
    state: SandboxState, order: SandboxOrder, confirmation: PackageConfirmation
) -> SandboxPackage:
    """Check one confirmation against the order and apply it (caller holds ``state.lock``)."""
    prefix = confirmation.field_prefix
    check_order_can_ship(order)
    now = state.now()
    if confirmation.ship_date > now:
        raise ShipmentRefused(
            f"{prefix}shipDate {confirmation.ship_date.isoformat()} is in the future"
        )
    if confirmation.ship_date < order.created_at:
        raise ShipmentRefused(
            f"{prefix}shipDate {confirmation.ship_date.isoformat()} is before the order's "
            f"purchase date {order.created_at.isoformat()}"
        )

    existing = next(
        (p for p in order.packages if p.package_reference_id == confirmation.package_reference_id),
        None,
    )
    # Units each item can still take: ordered, less cancelled, less every *other* package.
    in_other_packages: dict[str, int] = {}
    for package in order.packages:
        if package is existing or package.status == "CANCELLED":
            continue
        for item_id, quantity in package.items:
            in_other_packages[item_id] = in_other_packages.get(item_id, 0) + quantity
    room = {
        i.order_item_id: i.quantity
        - i.quantity_cancelled
        - in_other_packages.get(i.order_item_id, 0)
        for i in order.items
    }

    wanted = confirmation.items
    if wanted is None:  # the whole order: every unit still open
        wanted = tuple((item_id, None) for item_id, left in room.items() if left > 0)
        if not wanted:
            raise ShipmentRefused(f"Order {order.order_id} has no unshipped units left")
    items: list[tuple[str, int]] = []
    seen: set[str] = set()
    for index, (item_id, asked) in enumerate(wanted):
        where = f"{prefix}{confirmation.item_field}[{index}]"
        if item_id not in room:
            raise ShipmentRefused(
                f"{where}.{confirmation.item_id_field} {item_id!r} is not an item of order "
                f"{order.order_id}"
            )
        if item_id in seen:
            raise ShipmentRefused(
                f"{where}.{confirmation.item_id_field} {item_id!r} is listed twice"
            )
        seen.add(item_id)
        left = room[item_id]
        units = left if asked is None else asked
        if units <= 0:
            raise ShipmentRefused(f"{where}: order item {item_id} has no unshipped units left")
        if units > left:
            raise ShipmentRefused(
                f"{where}.quantity {units} is more than the {max(left, 0)} unit(s) of order item "
                f"{item_id} not yet shipped in other packages or cancelled"
            )
        items.append((item_id, units))

    carrier = (
        confirmation.carrier_name
        if confirmation.carrier_code == OTHER_CARRIER and confirmation.carrier_name
        else confirmation.carrier_code
    )
    moment = whole_seconds(now)
    package = SandboxPackage(
        package_reference_id=confirmation.package_reference_id,
        carrier=carrier,
        tracking_number=confirmation.tracking_number or "",
        shipping_service=confirmation.shipping_method or "",
        ship_time=confirmation.ship_date,
        created_time=existing.created_time if existing else moment,
        status="SHIPPED",
        items=items,
        carrier_code=confirmation.carrier_code,
        transparency_codes={k: v for k, v in confirmation.transparency_codes.items() if k in seen},
        ship_from_supply_source_id=confirmation.ship_from_supply_source_id,
        updated_time=moment if existing else None,
    )
    if existing is not None:
        order.packages[order.packages.index(existing)] = package
    else:
        order.packages.append(package)
    settle_fulfillment(order)
    state.post_shipments(order)  # the buyer is charged for what shipped: a shipment event
    state.touch(order)
    return package
