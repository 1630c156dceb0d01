"""What the platform hears about refunds and cancellations: confirmed on Amazon, failed (with
Amazon's reason, or because Seller Central refunded it first), and refunds found on Amazon that
the store did not make."""

from __future__ import annotations

from dataclasses import dataclass

from domain.orders.events import order_key
from domain.refunds.model import Refund
from domain.shared.events import Event


@dataclass(frozen=True, slots=True)
class RefundEvent(Event):
    refund: Refund

    @property
    def aggregate_key(self) -> str:
        refund = self.refund
        if refund.account_id and refund.amazon_order_id:
            return order_key(refund.account_id, refund.amazon_order_id)
        # A refused queue request of an unknown account or order (nothing was stored): keyed
        # by the request's digest, its fingerprint, as a refused fulfilment request is.
        return f"{refund.kind.value}-request:{refund.fingerprint[:32]}"


@dataclass(frozen=True, slots=True)
class RefundConfirmed(RefundEvent):
    """Amazon applied the refund (``refunds/confirmed``)."""


@dataclass(frozen=True, slots=True)
class RefundFailed(RefundEvent):
    """Amazon refused it, or it was already refunded on Amazon (``refunds/failed``)."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class RefundRecordedFromAmazon(RefundEvent):
    """A refund made on Amazon (Seller Central) that the store did not ask for
    (``refunds/recorded_from_amazon``)."""


@dataclass(frozen=True, slots=True)
class CancellationConfirmed(RefundEvent):
    """``cancellations/confirmed``."""


@dataclass(frozen=True, slots=True)
class CancellationFailed(RefundEvent):
    """``cancellations/failed``."""

    code: str
    message: str
