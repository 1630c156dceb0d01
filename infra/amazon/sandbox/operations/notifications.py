"""Notifications API v1: destinations (grantless), subscriptions (the seller's token, but by id
grantless), by the rules of ``state.notifications``.

The app authenticates a grantless operation (``GRANTLESS_OPERATIONS``) with a
``client_credentials`` token of scope ``sellingpartnerapi::notifications`` (the handler gets the
application's client id, no seller) and every other one with a seller's token (the handler gets
the seller, and the application is the one the seller's credentials belong to). Refusals:
400 ``InvalidInput``, 404 ``NotFound``, 409 ``Conflict`` (a second destination for an ARN, a
second subscription to a type, a destination still in use).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from infra.amazon.sandbox.errors import ApiError, SandboxError
from infra.amazon.sandbox.operations.call import Call, json_body
from infra.amazon.sandbox.rules.query import listed
from infra.amazon.sandbox.state.notifications import (
    SandboxDestination,
    SandboxSubscription,
    known_type,
)

NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
GRANTLESS_OPERATIONS = frozenset(
    {
        "notifications.createDestination",
        "notifications.getDestinations",
        "notifications.getDestination",
        "notifications.deleteDestination",
        "notifications.getSubscriptionById",
        "notifications.deleteSubscriptionById",
    }
)
_CODES = {404: "NotFound", 409: "Conflict"}


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except SandboxError as exc:
        raise ApiError(exc.status, _CODES.get(exc.status, "InvalidInput"), exc.message) from exc


def destination_json(destination: SandboxDestination) -> dict[str, Any]:
    return {
        "destinationId": destination.destination_id,
        "name": destination.name,
        "resource": {"sqs": {"arn": destination.arn}},
    }


def subscription_json(subscription: SandboxSubscription) -> dict[str, Any]:
    drawn: dict[str, Any] = {
        "subscriptionId": subscription.subscription_id,
        "payloadVersion": subscription.payload_version,
        "destinationId": subscription.destination_id,
    }
    if subscription.event_filter is not None:
        drawn["processingDirective"] = {"eventFilter": subscription.event_filter}
    return drawn


def _application(call: Call) -> str:
    """The application calling: the grantless token's, else the seller's credentials'."""
    if call.client_id:
        return call.client_id
    return call.state.seller(call.seller_id).client_id


# -- destinations (grantless) ------------------------------------------------------------------


def create_destination(call: Call) -> tuple[int, dict[str, Any] | None]:
    body = json_body(call)
    with call.state.lock, _refusals():
        made = call.state.notifications.create_destination(call.client_id, body)
        return 200, {"payload": destination_json(made)}


def get_destinations(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock:
        found = call.state.notifications.destinations_of(call.client_id)
        return 200, {"payload": [destination_json(d) for d in found]}


def get_destination(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, _refusals():
        found = call.state.notifications.destination(
            call.client_id, call.path_params["destinationId"]
        )
        return 200, {"payload": destination_json(found)}


def delete_destination(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, _refusals():
        call.state.notifications.delete_destination(
            call.client_id, call.path_params["destinationId"]
        )
        return 200, {}


# -- subscriptions -----------------------------------------------------------------------------


def create_subscription(call: Call) -> tuple[int, dict[str, Any] | None]:
    body = json_body(call)
    notification_type = call.path_params["notificationType"]
    with call.state.lock, _refusals():
        made = call.state.notifications.create_subscription(
            _application(call), call.seller_id, notification_type, body
        )
        if notification_type != "ORDER_CHANGE":
            call.state.notifier.watch_processing()  # feeds and reports finish unpolled
        return 200, {"payload": subscription_json(made)}


def get_subscription(call: Call) -> tuple[int, dict[str, Any] | None]:
    notification_type = call.path_params["notificationType"]
    with call.state.lock, _refusals():
        version = known_type(notification_type)
        wanted = call.query.get("payloadVersion")
        if wanted is not None and wanted != version:
            raise SandboxError(f"payloadVersion {wanted!r} is not one of {notification_type}'s")
        found = call.state.notifications.subscription_of(
            _application(call), call.seller_id, notification_type
        )
        if found is None:
            raise SandboxError(
                f"No subscription to {notification_type} was found for this seller", status=404
            )
        return 200, {"payload": subscription_json(found)}


def get_subscriptions(call: Call) -> tuple[int, dict[str, Any] | None]:
    """The caller's subscriptions to one notification type (the model allows one type per
    request), of every payload version unless ``payloadVersion`` names one. The sandbox holds at
    most one subscription per seller and type, so an answer fits one page (``pageSize`` 30 to
    100) and never carries a ``nextToken``; a ``nextToken`` sent is one it never issued."""
    query = call.query
    with call.state.lock, _refusals():
        types = listed(query, "notificationTypes")
        if len(types) != 1:
            raise SandboxError("notificationTypes takes exactly one notification type")
        (notification_type,) = types
        version = known_type(notification_type)
        raw_size = query.get("pageSize")
        if raw_size is not None and (not raw_size.isdigit() or not 30 <= int(raw_size) <= 100):
            raise SandboxError("pageSize must be a whole number from 30 to 100")
        if query.get("nextToken"):
            raise SandboxError("Invalid nextToken")
        found = call.state.notifications.subscription_of(
            _application(call), call.seller_id, notification_type
        )
        wanted = query.get("payloadVersion")
        kept = [found] if found is not None and wanted in (None, version) else []
        return 200, {"payload": {"subscriptions": [subscription_json(f) for f in kept]}}


def get_subscription_by_id(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, _refusals():
        found = call.state.notifications.subscription_by_id(
            call.client_id,
            call.path_params["notificationType"],
            call.path_params["subscriptionId"],
        )
        return 200, {"payload": subscription_json(found)}


def delete_subscription_by_id(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, _refusals():
        call.state.notifications.delete_subscription(
            call.client_id,
            call.path_params["notificationType"],
            call.path_params["subscriptionId"],
        )
        return 200, {}
