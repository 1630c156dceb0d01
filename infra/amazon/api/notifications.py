"""Notifications API v1: destinations and subscriptions, over two transports.

Destinations, and a subscription by id, are grantless: they go over ``grantless`` (a
``client_credentials`` token of scope ``sellingpartnerapi::notifications``, the application's
own rate budget). ``createSubscription`` and ``getSubscription`` are the seller's: they go over
``seller`` (the seller's token and budget). A 404 is ``AmazonNotFound``; a 409 (a destination for
that ARN, a subscription to that type already exists) is ``AmazonPermanentError`` with
``status_code`` 409, which the gateway reads as "look it up".
"""

from __future__ import annotations

from typing import Any

from infra.amazon.api._common import payload
from infra.amazon.errors import UnexpectedResponse
from infra.amazon.http import SpApiTransport


class NotificationsApi:
    """The Notifications API for one seller of one application."""

    def __init__(self, seller: SpApiTransport, grantless: SpApiTransport) -> None:
        self.seller = seller
        self.grantless = grantless

    # -- destinations (grantless) --------------------------------------------------------------

    def create_destination(self, name: str, sqs_arn: str) -> dict[str, Any]:
        body = {"name": name, "resourceSpecification": {"sqs": {"arn": sqs_arn}}}
        return _object(self.grantless.call_json("notifications.createDestination", json=body))

    def get_destinations(self) -> list[dict[str, Any]]:
        found = _payload(self.grantless.call_json("notifications.getDestinations"))
        return list(found) if isinstance(found, list) else []

    def get_destination(self, destination_id: str) -> dict[str, Any]:
        return _object(
            self.grantless.call_json(
                "notifications.getDestination", path_params={"destinationId": destination_id}
            )
        )

    def delete_destination(self, destination_id: str) -> None:
        self.grantless.call(
            "notifications.deleteDestination", path_params={"destinationId": destination_id}
        )

    # -- subscriptions -------------------------------------------------------------------------

    def create_subscription(
        self,
        notification_type: str,
        destination_id: str,
        payload_version: str,
        processing_directive: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"payloadVersion": payload_version, "destinationId": destination_id}
        if processing_directive is not None:
            body["processingDirective"] = processing_directive
        return _object(
            self.seller.call_json(
                "notifications.createSubscription",
                path_params={"notificationType": notification_type},
                json=body,
            )
        )

    def get_subscription(self, notification_type: str) -> dict[str, Any]:
        """The seller's subscription to the type; ``AmazonNotFound`` when there is none."""
        return _object(
            self.seller.call_json(
                "notifications.getSubscription",
                path_params={"notificationType": notification_type},
            )
        )

    def get_subscription_by_id(
        self, notification_type: str, subscription_id: str
    ) -> dict[str, Any]:
        return _object(
            self.grantless.call_json(
                "notifications.getSubscriptionById",
                path_params={
                    "notificationType": notification_type,
                    "subscriptionId": subscription_id,
                },
            )
        )

    def delete_subscription_by_id(self, notification_type: str, subscription_id: str) -> None:
        self.grantless.call(
            "notifications.deleteSubscriptionById",
            path_params={"notificationType": notification_type, "subscriptionId": subscription_id},
        )


def _payload(body: dict[str, Any]) -> Any:
    return payload(body, "notifications")


def _object(body: dict[str, Any]) -> dict[str, Any]:
    """The payload, which must be an object (a destination, a subscription)."""
    found = _payload(body)
    if not isinstance(found, dict):
        raise UnexpectedResponse("payload is not an object", operation="notifications")
    return found
