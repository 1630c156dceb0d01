"""The Notifications API's records in the sandbox: destinations and subscriptions, Amazon's rules.

Amazon's rules played here:

- A destination belongs to an application (the LWA app that made it with a grantless token);
  its resource is an SQS queue's ARN (``arn:aws:sqs:REGION:ACCOUNT:NAME``). The same ARN twice
  for one application is a 409 Conflict; a destination still used by a subscription cannot be
  deleted (409).
- A subscription belongs to (application, seller, notification type): one of each. A second
  ``createSubscription`` for a type the seller already has a subscription to, whatever the
  destination, is a 409 Conflict. Its ``payloadVersion`` is the type's ("1.0" for ORDER_CHANGE,
  "2020-09-04" for the feed and report types). ``processingDirective`` is for ORDER_CHANGE only:
  an ``eventFilter`` of ``eventFilterType`` ORDER_CHANGE with ``orderChangeTypes`` and
  ``marketplaceIds`` (each, when given, narrows what is delivered); a CEL ``filterExpression``
  is refused (the sandbox does not evaluate CEL, and Amazon takes one or the other).

The records are plain dataclasses, kept across restarts (``saved``). The caller holds the
state's lock.

The state tells a ``ChangeListener`` of every order change and finished feed or report: until
the server installs the delivery (``infra.amazon.sandbox.delivery.install_notifier``), one that
hears nothing (``Unheard``), so a bare ``SandboxState`` sends nothing and starts no thread.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from infra.amazon.sandbox.state.records import SandboxFeed, SandboxOrder
    from infra.amazon.sandbox.state.reports import SandboxReport

from infra.amazon.sandbox.errors import SandboxError

# The types the sandbox delivers, with the payload version Amazon documents for each.
PAYLOAD_VERSIONS: dict[str, str] = {
    "ORDER_CHANGE": "1.0",
    "FEED_PROCESSING_FINISHED": "2020-09-04",
    "REPORT_PROCESSING_FINISHED": "2020-09-04",
}
ORDER_CHANGE_TYPES = ("BuyerRequestedChange", "DeliveryTipChange", "OrderStatusChange")
SQS_ARN = re.compile(r"^arn:aws:sqs:(?P<region>[^:\s]+):(?P<account>[^:\s]+):(?P<name>[^:\s]+)$")
MAX_NAME = 256


def application_id(client_id: str) -> str:
    """The id Amazon's notifications carry for an LWA app (``amzn1.sellerapps.app.<uuid>``),
    the same for the same client id."""
    digest = hashlib.sha256(client_id.encode()).hexdigest()
    return f"amzn1.sellerapps.app.{uuid.UUID(digest[:32])}"


@dataclass(slots=True)
class SandboxDestination:
    destination_id: str
    client_id: str  # the application's LWA client id
    name: str
    arn: str


@dataclass(slots=True)
class SandboxSubscription:
    subscription_id: str
    client_id: str
    seller_id: str
    notification_type: str
    payload_version: str
    destination_id: str
    event_filter: dict[str, Any] | None = None  # processingDirective.eventFilter, as given


@dataclass(slots=True)
class NotificationBook:
    """Every application's destinations and subscriptions, by id."""

    destinations: dict[str, SandboxDestination] = field(default_factory=dict)
    subscriptions: dict[str, SandboxSubscription] = field(default_factory=dict)

    # -- destinations --------------------------------------------------------------------------

    def create_destination(self, client_id: str, body: Any) -> SandboxDestination:
        if not isinstance(body, dict):
            raise SandboxError("The request body must be a JSON object")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SandboxError("name is required")
        if len(name) > MAX_NAME:
            raise SandboxError(f"name is longer than {MAX_NAME} characters")
        spec = body.get("resourceSpecification")
        if not isinstance(spec, dict) or not spec:
            raise SandboxError("resourceSpecification is required")
        if "eventBridge" in spec:
            raise SandboxError(
                "resourceSpecification.eventBridge: the sandbox delivers to SQS only "
                "(ORDER_CHANGE and the feed and report notifications use the SQS workflow)"
            )
        sqs = spec.get("sqs")
        arn = sqs.get("arn") if isinstance(sqs, dict) else None
        if not isinstance(arn, str) or not SQS_ARN.match(arn):
            raise SandboxError(
                "resourceSpecification.sqs.arn must be an SQS queue ARN "
                "(arn:aws:sqs:REGION:ACCOUNT:NAME)"
            )
        for existing in self.destinations.values():
            if existing.client_id == client_id and existing.arn == arn:
                raise SandboxError(
                    f"A destination for {arn} already exists: {existing.destination_id}",
                    status=409,
                )
        destination = SandboxDestination(str(uuid.uuid4()), client_id, name, arn)
        self.destinations[destination.destination_id] = destination
        return destination

    def destinations_of(self, client_id: str) -> list[SandboxDestination]:
        return [d for d in self.destinations.values() if d.client_id == client_id]

    def destination(self, client_id: str, destination_id: str) -> SandboxDestination:
        found = self.destinations.get(destination_id)
        if found is None or found.client_id != client_id:
            raise SandboxError(f"Destination {destination_id} was not found", status=404)
        return found

    def delete_destination(self, client_id: str, destination_id: str) -> None:
        self.destination(client_id, destination_id)
        used = [
            s.subscription_id
            for s in self.subscriptions.values()
            if s.destination_id == destination_id
        ]
        if used:
            raise SandboxError(
                f"Destination {destination_id} is used by subscription(s) {', '.join(used)}: "
                "delete them first",
                status=409,
            )
        del self.destinations[destination_id]

    # -- subscriptions -------------------------------------------------------------------------

    def create_subscription(
        self, client_id: str, seller_id: str, notification_type: str, body: Any
    ) -> SandboxSubscription:
        version = known_type(notification_type)
        if not isinstance(body, dict):
            raise SandboxError("The request body must be a JSON object")
        payload_version = body.get("payloadVersion")
        if payload_version != version:
            raise SandboxError(
                f"payloadVersion must be {version!r} for {notification_type}, "
                f"not {payload_version!r}"
            )
        destination_id = body.get("destinationId")
        if not isinstance(destination_id, str) or not destination_id:
            raise SandboxError("destinationId is required")
        if destination_id not in self.destinations or (
            self.destinations[destination_id].client_id != client_id
        ):
            raise SandboxError(f"Destination {destination_id} was not found", status=404)
        event_filter = _event_filter(notification_type, body.get("processingDirective"))
        existing = self.subscription_of(client_id, seller_id, notification_type)
        if existing is not None:
            raise SandboxError(
                f"A subscription to {notification_type} already exists for this seller: "
                f"{existing.subscription_id}",
                status=409,
            )
        subscription = SandboxSubscription(
            str(uuid.uuid4()),
            client_id,
            seller_id,
            notification_type,
            version,
            destination_id,
            event_filter,
        )
        self.subscriptions[subscription.subscription_id] = subscription
        return subscription

    def subscription_of(
        self, client_id: str, seller_id: str, notification_type: str
    ) -> SandboxSubscription | None:
        return next(
            (
                s
                for s in self.subscriptions.values()
                if (s.client_id, s.seller_id, s.notification_type)
                == (client_id, seller_id, notification_type)
            ),
            None,
        )

    def subscription_by_id(
        self, client_id: str, notification_type: str, subscription_id: str
    ) -> SandboxSubscription:
        known_type(notification_type)
        found = self.subscriptions.get(subscription_id)
        if found is None or (found.client_id, found.notification_type) != (
            client_id,
            notification_type,
        ):
            raise SandboxError(
                f"Subscription {subscription_id} for {notification_type} was not found",
                status=404,
            )
        return found

    def delete_subscription(
        self, client_id: str, notification_type: str, subscription_id: str
    ) -> None:
        self.subscription_by_id(client_id, notification_type, subscription_id)
        del self.subscriptions[subscription_id]

    def subscribed(self, seller_id: str, notification_type: str) -> list[SandboxSubscription]:
        """Every application's subscription to this seller's notifications of this type."""
        return [
            s
            for s in self.subscriptions.values()
            if s.seller_id == seller_id and s.notification_type == notification_type
        ]

    def clear(self, kept: NotificationBook | None = None) -> None:
        self.destinations = dict(kept.destinations) if kept else {}
        self.subscriptions = dict(kept.subscriptions) if kept else {}


def known_type(notification_type: str) -> str:
    """The payload version of a type the sandbox delivers; 400 for any other."""
    version = PAYLOAD_VERSIONS.get(notification_type)
    if version is None:
        raise SandboxError(
            f"notificationType {notification_type!r} is not one the sandbox delivers; "
            f"one of {', '.join(PAYLOAD_VERSIONS)}"
        )
    return version


def _event_filter(notification_type: str, directive: Any) -> dict[str, Any] | None:
    """The subscription's ``eventFilter`` checked by Amazon's rules (module docstring)."""
    if directive is None:
        return None
    if not isinstance(directive, dict):
        raise SandboxError("processingDirective must be an object")
    if notification_type != "ORDER_CHANGE":
        raise SandboxError(f"processingDirective is not supported for {notification_type}")
    if "filterExpression" in directive:
        raise SandboxError(
            "processingDirective.filterExpression (CEL) is not supported by the sandbox; "
            "use processingDirective.eventFilter"
        )
    event_filter = directive.get("eventFilter")
    if event_filter is None:
        return None
    if not isinstance(event_filter, dict):
        raise SandboxError("processingDirective.eventFilter must be an object")
    if event_filter.get("eventFilterType") != "ORDER_CHANGE":
        raise SandboxError(
            "processingDirective.eventFilter.eventFilterType must be ORDER_CHANGE for "
            "ORDER_CHANGE subscriptions"
        )
    types = event_filter.get("orderChangeTypes")
    if types is not None and (
        not isinstance(types, list) or any(t not in ORDER_CHANGE_TYPES for t in types)
    ):
        raise SandboxError(
            f"processingDirective.eventFilter.orderChangeTypes: each one of {ORDER_CHANGE_TYPES}"
        )
    marketplaces = event_filter.get("marketplaceIds")
    if marketplaces is not None and (
        not isinstance(marketplaces, list) or not all(isinstance(m, str) for m in marketplaces)
    ):
        raise SandboxError("processingDirective.eventFilter.marketplaceIds: a list of ids")
    if "aggregationSettings" in event_filter:
        raise SandboxError(
            "processingDirective.eventFilter.aggregationSettings is for ANY_OFFER_CHANGED"
        )
    return dict(event_filter)


def passes(event_filter: dict[str, Any] | None, change_type: str, marketplace_id: str) -> bool:
    """Whether an order change gets through a subscription's event filter."""
    if not event_filter:
        return True
    types = event_filter.get("orderChangeTypes")
    if types and change_type not in types:
        return False
    marketplaces = event_filter.get("marketplaceIds")
    return not marketplaces or marketplace_id in marketplaces


class ChangeListener(Protocol):
    """What the state tells of the changes Amazon notifies (the caller holds the lock)."""

    def order_changed(self, order: SandboxOrder) -> None: ...

    def feed_finished(self, feed: SandboxFeed) -> None: ...

    def report_finished(self, report: SandboxReport) -> None: ...

    def remember(self, orders: list[SandboxOrder]) -> None: ...

    def watch_processing(self) -> None: ...


class Unheard:
    """The listener of a state with no delivery installed: nothing is sent."""

    def order_changed(self, order: SandboxOrder) -> None:
        return None

    def feed_finished(self, feed: SandboxFeed) -> None:
        return None

    def report_finished(self, report: SandboxReport) -> None:
        return None

    def remember(self, orders: list[SandboxOrder]) -> None:
        return None

    def watch_processing(self) -> None:
        return None
