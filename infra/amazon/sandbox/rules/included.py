"""``includedData`` of Orders v2026-01-01: the values Amazon knows and the sections each brings.

Amazon returns only the sections asked for; ``orderItems`` with ``orderItemId``,
``quantityOrdered`` and ``product`` are always there.
"""

from __future__ import annotations

from typing import Any

INCLUDED_DATA = (
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
)
# Which includedData value brings which field of an order / of an order item.
ORDER_SECTIONS = {
    "buyer": "BUYER",
    "recipient": "RECIPIENT",
    "proceeds": "PROCEEDS",
    "payment": "PAYMENT",
    "tax": "TAX",
    "fulfillment": "FULFILLMENT",
    "packages": "PACKAGES",
    "fulfillmentOrders": "FULFILLMENT_ORDERS",
}
ITEM_SECTIONS = {
    "proceeds": "PROCEEDS",
    "expense": "EXPENSE",
    "promotion": "PROMOTION",
    "cancellation": "CANCELLATION",
    "fulfillment": "FULFILLMENT",
    "tax": "TAX",
}


def select(full: dict[str, Any], included: frozenset[str]) -> dict[str, Any]:
    """Drop the sections ``includedData`` did not ask for, at order and at item level."""
    chosen = {
        k: v for k, v in full.items() if k not in ORDER_SECTIONS or ORDER_SECTIONS[k] in included
    }
    items = chosen.get("orderItems")
    if isinstance(items, list):
        chosen["orderItems"] = [
            {
                k: v
                for k, v in item.items()
                if k not in ITEM_SECTIONS or ITEM_SECTIONS[k] in included
            }
            if isinstance(item, dict)
            else item
            for item in items
        ]
    return chosen
