"""Amazon's notifications for one seller, set up, shown and taken down idempotently: the SQS
destination and the ORDER_CHANGE, FEED_PROCESSING_FINISHED and REPORT_PROCESSING_FINISHED
subscriptions (``SpApiNotifications``; ``notifications_api`` builds its two transports).

Safe to run twice or after a kill, and never doubles anything on Amazon: each step reads before
it writes, and a 409 Conflict (Amazon already holds one: the answer to a create whose first
answer was lost) is read as "look it up". A destination is the application's, shared by every
seller it serves: it is found by its queue ARN, never made twice. A subscription pointing at
another destination (an old queue) is replaced by one to this queue.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import redis
from pydantic import SecretStr

from infra.amazon.api.notifications import NotificationsApi
from infra.amazon.client import SpApiClient
from infra.amazon.errors import AmazonNotFound, AmazonPermanentError
from infra.amazon.http import SpApiTransport
from infra.amazon.lwa import LwaTokenProvider, grantless_credentials

log = logging.getLogger(__name__)

# The types we subscribe to, each with the payload version Amazon documents for it.
PAYLOAD_VERSIONS: dict[str, str] = {
    "ORDER_CHANGE": "1.0",
    "FEED_PROCESSING_FINISHED": "2020-09-04",
    "REPORT_PROCESSING_FINISHED": "2020-09-04",
}
# The order changes the store acts on (a delivery tip changes nothing it holds).
ORDER_CHANGE_TYPES = ("OrderStatusChange", "BuyerRequestedChange")


@dataclass(frozen=True, slots=True)
class Destination:
    destination_id: str
    name: str
    arn: str


@dataclass(frozen=True, slots=True)
class Subscription:
    notification_type: str
    subscription_id: str
    destination_id: str
    payload_version: str
    processing_directive: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """What one step found or did: ``action`` is created, kept, replaced or deleted."""

    what: str
    action: str
    ident: str


def notifications_api(
    client: SpApiClient,
    token_url: str,
    client_id: str,
    client_secret: SecretStr,
    cache: redis.Redis | None,
) -> NotificationsApi:
    """The seller's client for its own calls, and a grantless transport of the application
    (its token cached by scope, its rate budget keyed by the client id) for the others."""
    tokens = LwaTokenProvider(
        token_url, grantless_credentials(client_id, client_secret), client.http, cache=cache
    )
    grantless = SpApiTransport(
        client.endpoint, f"app:{client_id}", tokens, client.limiter, client.http, client.retry
    )
    return NotificationsApi(client.transport, grantless)


def _destination(raw: dict[str, Any]) -> Destination:
    arn = ((raw.get("resource") or {}).get("sqs") or {}).get("arn", "")
    return Destination(str(raw["destinationId"]), str(raw.get("name", "")), str(arn))


def _subscription(notification_type: str, raw: dict[str, Any]) -> Subscription:
    return Subscription(
        notification_type,
        str(raw["subscriptionId"]),
        str(raw["destinationId"]),
        str(raw.get("payloadVersion", "")),
        raw.get("processingDirective"),
    )


def _conflict(exc: AmazonPermanentError) -> bool:
    return exc.status_code == 409


class SpApiNotifications:
    """Setup, status and teardown of one seller's notifications to one SQS queue."""

    def __init__(self, api: NotificationsApi) -> None:
        self.api = api

    def destination_for(self, arn: str) -> Destination | None:
        found = [_destination(d) for d in self.api.get_destinations()]
        return next((d for d in found if d.arn == arn), None)

    def subscription(self, notification_type: str) -> Subscription | None:
        try:
            return _subscription(notification_type, self.api.get_subscription(notification_type))
        except AmazonNotFound:
            return None

    def ensure_destination(self, arn: str, name: str) -> tuple[Destination, Step]:
        existing = self.destination_for(arn)
        if existing is not None:
            return existing, Step("destination", "kept", existing.destination_id)
        try:
            made = _destination(self.api.create_destination(name, arn))
        except AmazonPermanentError as exc:
            existing = self.destination_for(arn) if _conflict(exc) else None
            if existing is None:
                raise
            return existing, Step("destination", "kept", existing.destination_id)
        log.info("notifications destination created", extra={"destination": made.destination_id})
        return made, Step("destination", "created", made.destination_id)

    def ensure_subscription(
        self, notification_type: str, destination_id: str, marketplace_ids: tuple[str, ...]
    ) -> Step:
        directive: dict[str, Any] | None = None
        if notification_type == "ORDER_CHANGE":
            directive = {
                "eventFilter": {
                    "eventFilterType": "ORDER_CHANGE",
                    "orderChangeTypes": list(ORDER_CHANGE_TYPES),
                    "marketplaceIds": list(marketplace_ids),
                }
            }
        existing = self.subscription(notification_type)
        action = "created"
        if existing is not None:
            if existing.destination_id == destination_id:
                return Step(notification_type, "kept", existing.subscription_id)
            self.api.delete_subscription_by_id(notification_type, existing.subscription_id)
            action = "replaced"
        try:
            made = self.api.create_subscription(
                notification_type, destination_id, PAYLOAD_VERSIONS[notification_type], directive
            )
        except AmazonPermanentError as exc:
            found = self.subscription(notification_type) if _conflict(exc) else None
            if found is None:
                raise
            return Step(notification_type, "kept", found.subscription_id)
        ident = str(made["subscriptionId"])
        log.info(
            "notifications subscription %s", action, extra={"notification_type": notification_type}
        )
        return Step(notification_type, action, ident)

    def setup(self, arn: str, name: str, marketplace_ids: tuple[str, ...]) -> list[Step]:
        """The destination for ``arn`` and the three subscriptions to it (each made if missing)."""
        destination, step = self.ensure_destination(arn, name)
        return [
            step,
            *(
                self.ensure_subscription(t, destination.destination_id, marketplace_ids)
                for t in PAYLOAD_VERSIONS
            ),
        ]

    def status(self, arn: str) -> tuple[Destination | None, list[Subscription]]:
        """The destination for ``arn`` (None when there is none) and the seller's
        subscriptions to our three types, wherever they point."""
        found = [s for t in PAYLOAD_VERSIONS if (s := self.subscription(t)) is not None]
        return self.destination_for(arn), found

    def teardown(self, arn: str, *, keep_destination: bool = False) -> list[Step]:
        """The seller's subscriptions deleted; then the destination, unless kept or still used
        by another seller's subscriptions (Amazon refuses: it is kept, and said so)."""
        steps: list[Step] = []
        for notification_type in PAYLOAD_VERSIONS:
            existing = self.subscription(notification_type)
            if existing is None:
                continue
            with contextlib.suppress(AmazonNotFound):  # gone since we looked: what we wanted
                self.api.delete_subscription_by_id(notification_type, existing.subscription_id)
            steps.append(Step(notification_type, "deleted", existing.subscription_id))
        destination = self.destination_for(arn)
        if destination is None or keep_destination:
            if destination is not None:
                steps.append(Step("destination", "kept", destination.destination_id))
            return steps
        try:
            self.api.delete_destination(destination.destination_id)
        except AmazonNotFound:
            pass
        except AmazonPermanentError as exc:
            if not _conflict(exc):
                raise
            steps.append(Step("destination", "kept (in use)", destination.destination_id))
            return steps
        steps.append(Step("destination", "deleted", destination.destination_id))
        return steps
