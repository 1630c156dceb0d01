"""What every SP-API handler gets (``Call``) and the helpers they share.

A handler gets the caller's seller and the request, and returns (status, JSON body) or raises
``ApiError`` (400 / 404 with Amazon's ``errors`` body); a body of None is an answer without one
(confirmShipment's 204, cancelFeed's 200). Authentication, faults, rate limits and the call log
are the app's business, before and after the handler.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams

from infra.amazon.sandbox.errors import ApiError, SandboxError, invalid
from infra.amazon.sandbox.rules.query import ORDER_ID
from infra.amazon.sandbox.state import SandboxOrder, SandboxState


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated SP-API request, as a handler sees it."""

    state: SandboxState
    operation: str
    seller_id: str
    query: QueryParams
    path_params: dict[str, str]
    body: bytes = b""
    base_url: str = ""  # the sandbox's configured base URL, for the URLs it hands out
    # A grantless call (``notifications.GRANTLESS_OPERATIONS``): the application's LWA client
    # id, and ``seller_id`` is empty.
    client_id: str = ""


Handler = Callable[[Call], tuple[int, dict[str, Any] | None]]


def not_found(order_id: str) -> ApiError:
    return ApiError(404, "NotFound", f"Order {order_id} was not found")


def json_body(call: Call) -> Any:
    if not call.body.strip():
        return None
    try:
        return json.loads(call.body)
    except ValueError as exc:
        raise invalid("The request body is not valid JSON") from exc


@contextmanager
def refusals() -> Iterator[None]:
    """A ``SandboxError`` from the sandbox's rules as Amazon's answer (404 or 400)."""
    try:
        yield
    except SandboxError as exc:
        if exc.status == 404:
            raise ApiError(404, "NotFound", exc.message) from exc
        raise ApiError(exc.status, "InvalidInput", exc.message) from exc


def own_order(call: Call) -> SandboxOrder:
    """The order of the path, if it is the caller's (another seller's order does not exist)."""
    order_id = call.path_params["orderId"]
    if not ORDER_ID.match(order_id):
        raise invalid(f"Invalid orderId {order_id!r}: expected the 3-7-7 format")
    order = call.state.orders.get(order_id)
    if order is None or order.seller_id != call.seller_id:
        raise not_found(order_id)  # another seller's order does not exist for this caller
    return order
