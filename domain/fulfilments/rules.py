"""The rules of intake: whether the order takes this fulfilment and which of its items the
package holds, and how urgent a confirmation is."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.fulfilments.commands import RequestFulfilment
from domain.fulfilments.model import OrderSnapshot, PackageLine
from domain.orders import STAND_IN_ITEMS, FulfilledBy, OrderStatus, has_stand_in_items
from domain.shared import FieldError

# Clocks of the store and ours differ a little; a ship time this far ahead is still "now".
SHIP_TIME_SKEW = timedelta(minutes=5)


def check_fulfilment(
    command: RequestFulfilment, order: OrderSnapshot, now: datetime
) -> tuple[tuple[PackageLine, ...], list[FieldError]]:
    """The package's lines (items by Amazon's order item id), or why it cannot be accepted."""
    errors: list[FieldError] = []
    if order.fulfilled_by == FulfilledBy.AMAZON:
        return (), [
            FieldError("amazon_order_id", "fulfilled by Amazon: it cannot be fulfilled here")
        ]
    if order.status == OrderStatus.CANCELLED:
        return (), [FieldError("amazon_order_id", "the order is cancelled on Amazon")]
    if has_stand_in_items(item.order_item_id for item in order.items):
        return (), [FieldError("amazon_order_id", STAND_IN_ITEMS)]
    if order.status in (OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY):
        return (), [
            FieldError(
                "amazon_order_id",
                f"the order is {order.status} on Amazon: it cannot ship until Amazon releases it",
            )
        ]
    if order.status == OrderStatus.UNFULFILLABLE:
        return (), [FieldError("amazon_order_id", "Amazon marks the order unfulfillable")]
    if order.buyer_cancel_requested and not command.cancellation_request_reviewed:
        reason = f" ({order.buyer_cancel_reason})" if order.buyer_cancel_reason else ""
        errors.append(
            FieldError(
                "cancellation_request_reviewed",
                f"the buyer asked to cancel this order{reason}: check it in Seller Central, "
                "then send cancellation_request_reviewed: true to ship anyway",
            )
        )
    if command.shipped_at > now + SHIP_TIME_SKEW:
        errors.append(FieldError("shipped_at", "is in the future"))
    elif command.shipped_at < order.purchased_at:
        errors.append(
            FieldError(
                "shipped_at",
                f"is before the order was purchased ({order.purchased_at.isoformat()})",
            )
        )
    lines, line_errors = _package_lines(command, order)
    return lines, errors + line_errors


def _package_lines(
    command: RequestFulfilment, order: OrderSnapshot
) -> tuple[tuple[PackageLine, ...], list[FieldError]]:
    if not command.lines:
        everything = tuple(
            PackageLine(item.order_item_id, item.quantity_remaining, item.sku)
            for item in order.items
            if item.quantity_remaining > 0
        )
        if not everything:
            return (), [FieldError("lines", "nothing remains unshipped on this order")]
        return everything, []
    errors: list[FieldError] = []
    by_id = {item.order_item_id: item for item in order.items}
    wanted: dict[str, int] = {}
    first_line: dict[str, int] = {}
    for index, line in enumerate(command.lines):
        if line.order_item_id is not None:
            item = by_id.get(line.order_item_id)
            if item is None:
                errors.append(
                    FieldError(f"lines[{index}].order_item_id", "not an item of this order")
                )
                continue
        else:
            matches = [i for i in order.items if i.sku is not None and i.sku == line.sku]
            if not matches:
                errors.append(FieldError(f"lines[{index}].sku", "no item of this order has it"))
                continue
            if len(matches) > 1:
                errors.append(
                    FieldError(
                        f"lines[{index}].sku",
                        "several items of this order have it: name the order_item_id",
                    )
                )
                continue
            item = matches[0]
        wanted[item.order_item_id] = wanted.get(item.order_item_id, 0) + line.quantity
        first_line.setdefault(item.order_item_id, index)
    for item_id, quantity in wanted.items():
        item = by_id[item_id]
        if quantity > item.quantity_remaining:
            shipped = max(item.quantity_shipped, item.quantity_confirmed)
            errors.append(
                FieldError(
                    f"lines[{first_line[item_id]}].quantity",
                    f"more than remains unshipped: {quantity} asked, {item.quantity_remaining} "
                    f"of {item.quantity_ordered} remain ({shipped} shipped, "
                    f"{item.quantity_pending} in earlier fulfilments)",
                )
            )
    lines = tuple(
        PackageLine(item.order_item_id, wanted[item.order_item_id], item.sku)
        for item in order.items
        if item.order_item_id in wanted
    )
    return lines, errors


def urgency(ship_by_latest: datetime | None, now: datetime) -> int:
    """0 (most urgent) to 9: how soon the order's ship-by date passes. Amazon counts a
    confirmation when it arrives, so the nearest deadline goes first. Four steps, matching the
    Redis transport's priority sub-queues (0, 3, 6, 9)."""
    if ship_by_latest is None:
        return 9
    left = ship_by_latest - now
    if left <= timedelta(hours=2):
        return 0
    if left <= timedelta(hours=12):
        return 3
    if left <= timedelta(hours=48):
        return 6
    return 9
