"""How an order record changes: status derived from packages, staged statuses, raw patches.

``settle_fulfillment`` follows a seller's change (a package confirmed, units cancelled);
``apply_status`` follows the control API's "move this order to X" and makes items and packages
agree with it; ``deep_merge`` is how raw patches pile up over the drawn JSON.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from infra.amazon.sandbox.state.clock import whole_seconds
from infra.amazon.sandbox.state.records import SandboxOrder, SandboxPackage


def deep_merge(
    base: dict[str, Any], patch: dict[str, Any], *, keep_none: bool = False
) -> dict[str, Any]:
    """``patch`` over ``base``: objects merge, anything else replaces, ``None`` deletes.

    With ``keep_none`` a ``None`` is kept instead, so patches can pile up and still delete the
    field when they are finally applied to the drawn order.
    """
    merged = dict(base)
    for key, value in patch.items():
        if value is None and not keep_none:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value, keep_none=keep_none)
        else:
            merged[key] = value
    return merged


def settle_fulfillment(order: SandboxOrder) -> None:
    """Derive shipped quantities from the packages and the status from the quantities.

    Used after a seller's change (a package confirmed or edited, units cancelled): every unit
    cancelled is CANCELLED; every unit not cancelled shipped is SHIPPED; some shipped is
    PARTIALLY_SHIPPED; otherwise the status stays (UNSHIPPED, or PENDING for a cancel).
    """
    shipped: dict[str, int] = {}
    for package in order.packages:
        if package.status == "CANCELLED":
            continue
        for item_id, quantity in package.items:
            shipped[item_id] = shipped.get(item_id, 0) + quantity
    for item in order.items:
        item.quantity_shipped = shipped.get(item.order_item_id, 0)
    to_ship = sum(i.quantity - i.quantity_cancelled for i in order.items)
    sent = sum(i.quantity_shipped for i in order.items)
    if to_ship == 0:
        order.status = "CANCELLED"
    elif sent >= to_ship:
        order.status = "SHIPPED"
    elif sent > 0:
        order.status = "PARTIALLY_SHIPPED"


_CARRIERS = (("UPS", "UPS Ground"), ("USPS", "USPS Priority Mail"), ("FedEx", "FedEx Home"))


def apply_status(order: SandboxOrder, status: str, now: datetime, rng: random.Random) -> None:
    """Move an order to ``status`` and make its items and packages agree with it.

    Shipped quantities follow the status (all, some, none); a seller-fulfilled order that has
    shipped something gets a package, as it would after a shipment confirmation.
    """
    order.status = status
    if status == "PARTIALLY_SHIPPED" and sum(i.quantity for i in order.items) < 2:
        # A partial shipment needs two units; grow the one line rather than refuse.
        order.items[0].quantity = 2
    for index, item in enumerate(order.items):
        if status == "SHIPPED":
            item.quantity_shipped = item.quantity
        elif status == "PARTIALLY_SHIPPED":
            if len(order.items) > 1:
                item.quantity_shipped = item.quantity if index == 0 else 0
            else:
                item.quantity_shipped = item.quantity - 1
        elif status != "CANCELLED":
            item.quantity_shipped = 0
    if status in ("SHIPPED", "PARTIALLY_SHIPPED") and order.fulfilled_by == "MERCHANT":
        shipped = [(i.order_item_id, i.quantity_shipped) for i in order.items if i.quantity_shipped]
        carrier, service = rng.choice(_CARRIERS)
        moment = whole_seconds(now)
        order.packages = [
            SandboxPackage(
                package_reference_id="1",
                carrier=carrier,
                tracking_number="1Z"
                + "".join(rng.choices("0123456789ABCDEFGHJKLMNPRSTUVWXYZ", k=16)),
                shipping_service=service,
                ship_time=moment,
                created_time=moment,
                status="SHIPPED",
                items=shipped,
            )
        ]
    elif status not in ("SHIPPED", "PARTIALLY_SHIPPED"):
        order.packages = []
