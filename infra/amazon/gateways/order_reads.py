"""``domain.notifications.OrderReader`` over SP-API: one order read with getOrder (Orders
v2026-01-01, 0.5 calls a second, burst 30), through the seller's shared rate budget.

Impatient, like a fulfilment's read-back: a read that would wait for a token, or meets a 429,
5xx or network error, is ``ReadLater`` (the refresh stays pending, its task comes back when the
budget says) instead of holding a worker. Amazon's refusals (404, 400, 403) and an order that
does not translate are ``OrderUnreadable``: the refresh is dropped, the sync reads the order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

from domain.notifications import OrderUnreadable, ReadLater
from domain.orders import AmazonOrder
from infra.amazon.errors import AmazonError, AmazonTransientError, Throttled
from infra.amazon.gateways.orders import INCLUDED_DATA
from infra.amazon.schemas import Order
from infra.amazon.translate import TranslationError, to_domain

GET_ORDER = "orders2026.getOrder"


class GetsOrders(Protocol):
    def get_order(
        self, order_id: str, included_data: Sequence[str] = (), *, patient: bool = True
    ) -> Order: ...


class SpApiOrderReader:
    """One reader for every account: ``client_for(account_id)`` gives that seller's client."""

    def __init__(self, client_for: Callable[[int], GetsOrders]) -> None:
        self.client_for = client_for

    def get_order(self, account_id: int, amazon_order_id: str) -> AmazonOrder:
        try:
            # The sync's own includedData: the order stored is the same whichever path read it.
            order = self.client_for(account_id).get_order(
                amazon_order_id, INCLUDED_DATA, patient=False
            )
        except AmazonTransientError as exc:
            wait = exc.retry_after_s if isinstance(exc, Throttled) else None
            raise ReadLater(
                f"{type(exc).__name__}: {exc.message}",
                retry_after=timedelta(seconds=wait) if wait is not None else None,
            ) from exc
        except AmazonError as exc:
            raise OrderUnreadable(f"{type(exc).__name__}: {exc.message}") from exc
        try:
            return to_domain(order.model_dump(mode="json", by_alias=True, exclude_none=True))
        except TranslationError as exc:
            raise OrderUnreadable(str(exc)) from exc
