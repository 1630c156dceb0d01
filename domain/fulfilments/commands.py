"""The command that asks for a fulfilment, the same from every door (HTTP, queue, CLI)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One line of a request: an order item named by Amazon's id or by the seller's SKU."""

    quantity: int
    order_item_id: str | None = None
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class RequestFulfilment:
    """The command: ship these lines of this order in one package (no lines: all that remains)."""

    account: str
    amazon_order_id: str
    platform_fulfilment_id: str
    shipped_at: datetime
    carrier_code: str  # Amazon's spelling; "Other" when carrier_name names the carrier
    tracking_number: str
    carrier_name: str | None = None
    shipping_method: str | None = None
    lines: tuple[LineRequest, ...] = ()
    cancellation_request_reviewed: bool = False

    def fingerprint(self) -> str:
        """Equal fingerprints mean the same fulfilment, however it was spelled or which door
        it came through (the account is left out: the fulfilment's key already holds it)."""
        data = {
            "amazon_order_id": self.amazon_order_id,
            "platform_fulfilment_id": self.platform_fulfilment_id,
            "shipped_at": self.shipped_at.astimezone(UTC).isoformat(),
            "carrier_code": self.carrier_code,
            "carrier_name": self.carrier_name,
            "shipping_method": self.shipping_method,
            "tracking_number": self.tracking_number,
            "lines": [[line.order_item_id, line.sku, line.quantity] for line in self.lines],
            "cancellation_request_reviewed": self.cancellation_request_reviewed,
        }
        encoded = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()
