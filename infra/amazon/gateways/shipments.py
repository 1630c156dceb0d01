"""``domain.fulfilments.ShipmentGateway`` over SP-API: a package as ``confirmShipment``'s
``packageDetail``, Amazon's errors as the domain's, and the order read back with ``getOrder``
(impatiently: a read-back that would wait for the budget, or meets a transient error, is
``deferred`` for ``domain.fulfilments.read_back_pending`` instead of holding the worker).

Error mapping (``infra.amazon.errors`` -> ``domain.fulfilments``):

- ``AmazonPermanentError`` (400 ``InvalidInput``, 404, 401/403 ...) -> ``ShipmentRejected`` with
  Amazon's code and message: recorded as failed, for an operator to fix and retry. A package
  naming an item id made up for an order report's line (``domain.orders.STAND_IN_ITEMS``) is
  ``ShipmentRejected`` before anything is sent.
- ``AmazonTransientError`` (429, 5xx, network; a patient client already retried a few times, a
  worker's hands them back at once) -> ``AmazonUnavailable``, with the wait when it is known
  (our shared bucket's estimate). A
  response lost after Amazon applied it (``AmazonUnreachable(request_sent=True)``) is transient
  too: the resend carries the same ``packageReferenceId`` and so edits the same package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain.fulfilments import AmazonUnavailable, Package, ReadBack, ShipmentRejected
from domain.orders import STAND_IN_ITEMS, has_stand_in_items
from domain.shared import format_utc
from infra.amazon.errors import (
    AmazonError,
    AmazonPermanentError,
    AmazonTransientError,
    Throttled,
)
from infra.amazon.gateways.orders import INCLUDED_DATA
from infra.amazon.schemas import Order
from infra.amazon.translate import TranslationError, to_domain


class ConfirmsShipments(Protocol):
    """The two calls of ``infra.amazon.client.SpApiClient`` this adapter makes."""

    def confirm_shipment(
        self, order_id: str, marketplace_id: str, package_detail: Mapping[str, Any]
    ) -> None: ...

    def get_order(
        self, order_id: str, included_data: Sequence[str] = (), *, patient: bool = True
    ) -> Order: ...


def ship_date(value: datetime) -> str:
    """The store's ship time as Amazon's ISO 8601 ``shipDate`` in UTC (whole seconds)."""
    return format_utc(value)


def package_detail(package: Package) -> dict[str, Any]:
    """``confirmShipment``'s ``packageDetail`` for one package."""
    detail: dict[str, Any] = {
        "packageReferenceId": package.package_reference_id,
        "carrierCode": package.carrier_code,
        "trackingNumber": package.tracking_number,
        "shipDate": ship_date(package.ship_date),
        "orderItems": [
            {"orderItemId": line.order_item_id, "quantity": line.quantity} for line in package.lines
        ],
    }
    if package.carrier_name:
        detail["carrierName"] = package.carrier_name
    if package.shipping_method:
        detail["shippingMethod"] = package.shipping_method
    return detail


def _unavailable(exc: AmazonTransientError) -> AmazonUnavailable:
    wait = exc.retry_after_s if isinstance(exc, Throttled) else None
    return AmazonUnavailable(
        f"{type(exc).__name__}: {exc}",
        retry_after=timedelta(seconds=wait) if wait is not None else None,
    )


class SpApiShipments:
    """One gateway for every account: ``client_for(account_id)`` gives that seller's client."""

    def __init__(self, client_for: Callable[[int], ConfirmsShipments]) -> None:
        self.client_for = client_for

    def confirm_shipment(
        self, account_id: int, amazon_order_id: str, marketplace_id: str, package: Package
    ) -> None:
        if has_stand_in_items(line.order_item_id for line in package.lines):
            # Taken in before intake read such orders from Amazon first: never sent.
            raise ShipmentRejected("StandInItemId", STAND_IN_ITEMS)
        client = self.client_for(account_id)
        try:
            client.confirm_shipment(amazon_order_id, marketplace_id, package_detail(package))
        except AmazonTransientError as exc:
            raise _unavailable(exc) from exc
        except AmazonPermanentError as exc:
            code = exc.code or (str(exc.status_code) if exc.status_code else type(exc).__name__)
            raise ShipmentRejected(code, exc.message) from exc

    def read_back(
        self, account_id: int, amazon_order_id: str, package_reference_id: str
    ) -> ReadBack:
        try:
            order = self.client_for(account_id).get_order(
                amazon_order_id, INCLUDED_DATA, patient=False
            )
        except AmazonTransientError as exc:  # no token free now, or Amazon busy: read it later
            wait = exc.retry_after_s if isinstance(exc, Throttled) else None
            return ReadBack(
                error=f"{type(exc).__name__}: {exc.message}",
                deferred=True,
                retry_after=timedelta(seconds=wait) if wait is not None else None,
            )
        except AmazonError as exc:  # the confirmation stands; the next sync reads the order
            return ReadBack(error=f"{type(exc).__name__}: {exc.message}")
        package = next(
            (p for p in order.packages if p.package_reference_id == package_reference_id), None
        )
        status = package.package_status.status if package and package.package_status else None
        try:
            translated = to_domain(order.model_dump(mode="json", by_alias=True, exclude_none=True))
        except TranslationError as exc:
            return ReadBack(
                package_status=status, package_listed=package is not None, error=str(exc)
            )
        return ReadBack(order=translated, package_status=status, package_listed=package is not None)
