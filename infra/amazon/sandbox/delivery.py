"""The sandbox's delivery of notifications to the subscribed destinations' SQS queues, as Amazon's
does: what changed is noticed under the state's lock, and sent by a background thread.

What is sent:

- ``ORDER_CHANGE`` for every order change Amazon notifies: a new order and every status change
  (``OrderStatusChange``), a confirmed shipment (units shipped moved, ``OrderStatusChange``), a
  buyer's cancellation request (``BuyerRequestedChange``). The state tells the notifier after
  every change of an order (``order_changed``); the notifier compares the order with what it
  last saw (status, units shipped, items the buyer asked to cancel), so a change that Amazon
  would not announce (a refund, a patch of the order's JSON) sends nothing. Each subscription's
  event filter is honoured (``state.notifications.passes``).
- ``FEED_PROCESSING_FINISHED`` when a feed ends DONE, FATAL or CANCELLED, and
  ``REPORT_PROCESSING_FINISHED`` when a report is made or cancelled.

How it is sent (``DeliverySettings``, changed through the control API): each message waits
``delay_s`` (Amazon delivers within seconds, not at once); with ``reorder_rate`` a message waits
longer (up to four delays more), so a later one overtakes it; with ``duplicate_rate`` it is sent
twice (the same ``NotificationId``: SQS delivers at least once); ``drop_next`` N and
``drop_rate`` lose messages on purpose, to prove the polling safety net. The SQS queue is the
destination's ARN, ``arn:aws:sqs:REGION:ACCOUNT:NAME``, looked up by name on the configured
endpoint (``endpoint_url``: the embedded SQS; none: AWS's own endpoint and credentials).

Amazon processes feeds and closes settlement periods whether or not anyone polls; the sandbox
moves them on only when asked (a getFeed, a Reports API call). While some subscription waits for
feed or report notifications, a ``Ticker`` thread moves them on every second by sandbox time,
so a finished feed is announced without a poll.

Sending never blocks an SP-API answer, and a failure to send is logged and listed, never
raised. ``sent`` (the control API's listing) keeps the last ``SENT_LOG_SIZE`` notifications
with what became of each.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from infra.amazon.sandbox.render_notifications import (
    Metadata,
    feed_finished,
    order_change,
    report_finished,
)
from infra.amazon.sandbox.state.clock import iso
from infra.amazon.sandbox.state.notifications import SQS_ARN, application_id, passes

if TYPE_CHECKING:
    from infra.amazon.sandbox.state.notifications import SandboxSubscription
    from infra.amazon.sandbox.state.records import SandboxFeed, SandboxOrder
    from infra.amazon.sandbox.state.reports import SandboxReport
    from infra.amazon.sandbox.state.store import SandboxState

log = logging.getLogger(__name__)

SENT_LOG_SIZE = 2000
# moto takes any credentials; boto3 signs with these against a configured (local) endpoint.
_DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
Fingerprint = tuple[str, int, frozenset[str]]  # status, units shipped, items asked to cancel


@dataclass(slots=True)
class DeliverySettings:
    delay_s: float = 1.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    drop_rate: float = 0.0
    drop_next: int = 0
    endpoint_url: str | None = None
    region: str = "us-east-1"

    def as_json(self) -> dict[str, Any]:
        return {
            "delay_seconds": self.delay_s,
            "duplicate_rate": self.duplicate_rate,
            "reorder_rate": self.reorder_rate,
            "drop_rate": self.drop_rate,
            "drop_next": self.drop_next,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
        }


@dataclass(slots=True)
class Sent:
    """One notification and what became of it: queued, sent, dropped or failed."""

    notification_id: str
    notification_type: str
    subscription_id: str
    seller_id: str
    destination_arn: str
    subject: str  # the order, feed or report it is about
    change_type: str | None
    body: dict[str, Any]
    queued_at: datetime
    status: str = "queued"
    copies: int = 1
    detail: str = ""
    sent_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "notification_id": self.notification_id,
            "notification_type": self.notification_type,
            "subscription_id": self.subscription_id,
            "seller_id": self.seller_id,
            "destination_arn": self.destination_arn,
            "subject": self.subject,
            "change_type": self.change_type,
            "status": self.status,
            "copies": self.copies,
            "detail": self.detail,
            "queued_at": iso(self.queued_at),
            "sent_at": self.sent_at,
            "body": self.body,
        }


def install_notifier(state: SandboxState) -> Notifier:
    """The state's delivery (made once): orders as they stand count as announced (a loaded
    state's), and feeds and reports move on by themselves if someone waits for them."""
    with state.lock:
        if isinstance(state.notifier, Notifier):
            return state.notifier
        notifier = Notifier(state)
        notifier.remember(list(state.orders.values()))
        if any(
            s.notification_type != "ORDER_CHANGE"
            for s in state.notifications.subscriptions.values()
        ):
            notifier.watch_processing()
        state.notifier = notifier
        return notifier


def fingerprint(order: SandboxOrder) -> Fingerprint:
    return (
        order.status,
        sum(i.quantity_shipped for i in order.items),
        frozenset(i.order_item_id for i in order.items if i.cancel_reason is not None),
    )


class Notifier:
    """Notices what changed (caller holds the state's lock) and hands it to the sender."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.settings = DeliverySettings()
        self.sent: deque[Sent] = deque(maxlen=SENT_LOG_SIZE)
        self._seen: dict[str, Fingerprint] = {}
        self._rng = random.Random()  # delivery's chaos; not security relevant
        self._sender: Sender | None = None
        self._ticker: Ticker | None = None
        self._lock = threading.Lock()

    # -- what changed --------------------------------------------------------------------------

    def remember(self, orders: list[SandboxOrder]) -> None:
        """Orders as they are now count as announced (a loaded state, a reset)."""
        self._seen = {o.order_id: fingerprint(o) for o in orders}

    def order_changed(self, order: SandboxOrder) -> None:
        now = self.state.now()
        seen = self._seen.get(order.order_id)
        current = fingerprint(order)
        self._seen[order.order_id] = current
        if seen == current:
            return
        changes: list[tuple[str, str]] = []
        if seen is None:
            changes.append(("OrderStatusChange", "NewOrder"))
        elif seen[:2] != current[:2]:
            changes.append(("OrderStatusChange", "OrderStatusChange"))
        if current[2] - (seen[2] if seen else frozenset()):
            changes.append(("BuyerRequestedChange", "Buyer Requested Cancel"))
        for subscription in self.state.notifications.subscribed(order.seller_id, "ORDER_CHANGE"):
            for change_type, reason in changes:
                if not passes(subscription.event_filter, change_type, order.marketplace_id):
                    continue
                meta = self._metadata(subscription, now)
                body = order_change(order, change_type, reason, order.updated_at, meta)
                self._queue(subscription, meta, body, order.order_id, change_type)

    def feed_finished(self, feed: SandboxFeed) -> None:
        now = self.state.now()
        for subscription in self.state.notifications.subscribed(
            feed.seller_id, "FEED_PROCESSING_FINISHED"
        ):
            meta = self._metadata(subscription, now)
            self._queue(subscription, meta, feed_finished(feed, meta), feed.feed_id, None)

    def report_finished(self, report: SandboxReport) -> None:
        now = self.state.now()
        for subscription in self.state.notifications.subscribed(
            report.seller_id, "REPORT_PROCESSING_FINISHED"
        ):
            meta = self._metadata(subscription, now)
            body = report_finished(report, meta)
            self._queue(subscription, meta, body, report.report_id, None)

    @staticmethod
    def _metadata(subscription: SandboxSubscription, now: datetime) -> Metadata:
        return Metadata(
            application_id=application_id(subscription.client_id),
            subscription_id=subscription.subscription_id,
            notification_id=str(uuid.uuid4()),
            publish_time=now,
        )

    def _queue(
        self,
        subscription: SandboxSubscription,
        meta: Metadata,
        body: dict[str, Any],
        subject: str,
        change_type: str | None,
    ) -> None:
        destination = self.state.notifications.destinations.get(subscription.destination_id)
        if destination is None:
            return
        sent = Sent(
            notification_id=meta.notification_id,
            notification_type=subscription.notification_type,
            subscription_id=subscription.subscription_id,
            seller_id=subscription.seller_id,
            destination_arn=destination.arn,
            subject=subject,
            change_type=change_type,
            body=body,
            queued_at=meta.publish_time,
        )
        with self._lock:
            self.sent.append(sent)
            settings = self.settings
            if settings.drop_next > 0 or self._rng.random() < settings.drop_rate:
                settings.drop_next = max(0, settings.drop_next - 1)
                sent.status = "dropped"
                log.info("sandbox dropped notification %s on purpose", sent.notification_id)
                return
            delay = settings.delay_s
            if self._rng.random() < settings.reorder_rate:
                delay += self._rng.uniform(1, 4) * max(settings.delay_s, 0.5)
            if self._rng.random() < settings.duplicate_rate:
                sent.copies = 2
            if self._sender is None:
                self._sender = Sender(self)
            self._sender.put(time.monotonic() + delay, sent)

    # -- settings and the listing --------------------------------------------------------------

    def configure(self, **changes: Any) -> DeliverySettings:
        with self._lock:
            for name, value in changes.items():
                setattr(self.settings, name, value)
            if self._sender is not None and {"endpoint_url", "region"} & set(changes):
                self._sender.reset_client()
            return self.settings

    def listing(
        self, notification_type: str | None = None, subject: str | None = None
    ) -> list[Sent]:
        with self._lock:
            return [
                s
                for s in self.sent
                if (notification_type is None or s.notification_type == notification_type)
                and (subject is None or s.subject == subject)
            ]

    def clear_listing(self) -> None:
        with self._lock:
            self.sent.clear()

    def pending(self) -> int:
        with self._lock:
            return self._sender.pending() if self._sender is not None else 0

    def watch_processing(self) -> None:
        """Feeds and reports move on by themselves from now on (the module docstring)."""
        with self._lock:
            if self._ticker is None:
                self._ticker = Ticker(self.state)

    def close(self) -> None:
        """Stop the sender (messages still waiting are not sent) and the ticker."""
        with self._lock:
            sender, self._sender = self._sender, None
            ticker, self._ticker = self._ticker, None
        if sender is not None:
            sender.stop()
        if ticker is not None:
            ticker.stop()


class Ticker:
    """A daemon thread moving unfinished feeds on and settling closed periods every second."""

    INTERVAL_S = 1.0

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-processing", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from infra.amazon.sandbox.feeds.processing import advance
        from infra.amazon.sandbox.reports import settle

        while not self._stop.wait(self.INTERVAL_S):
            try:
                with self.state.lock:
                    moving = [f for f in self.state.feeds.values() if not f.finished]
                    for feed in moving:
                        advance(self.state, feed)
                    settle(self.state)
                    if any(f.finished for f in moving):
                        self.state.mark_changed()
            except Exception:  # a thread's edge: logged, and the next second tries again
                log.exception("sandbox feed and report processing failed")


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    sent: Sent = field(compare=False)


class Sender:
    """A daemon thread sending each message when it is due, with one boto3 client."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self._heap: list[_Due] = []
        self._seq = 0
        self._wake = threading.Condition()
        self._stopped = False
        self._client: Any = None
        self._queue_urls: dict[str, str] = {}
        self._thread = threading.Thread(target=self._run, name="sandbox-notifications", daemon=True)
        self._thread.start()

    def put(self, at: float, sent: Sent) -> None:
        with self._wake:
            self._seq += 1
            heapq.heappush(self._heap, _Due(at, self._seq, sent))
            self._wake.notify()

    def pending(self) -> int:
        with self._wake:
            return len(self._heap)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._heap or self._heap[0].at > time.monotonic()):
                    timeout = self._heap[0].at - time.monotonic() if self._heap else None
                    self._wake.wait(timeout)
                if self._stopped:
                    return
                due = heapq.heappop(self._heap)
            self._send(due.sent)

    def _send(self, sent: Sent) -> None:
        try:
            client = self._sqs()
            url = self._queue_url(client, sent.destination_arn)
            body = json.dumps(sent.body)
            for _ in range(sent.copies):
                client.send_message(QueueUrl=url, MessageBody=body)
        except Exception as exc:  # noqa: BLE001 (a delivery edge: logged and listed, never raised)
            sent.status = "failed"
            sent.detail = f"{type(exc).__name__}: {exc}"
            log.warning(
                "sandbox could not deliver notification %s to %s: %s",
                sent.notification_id,
                sent.destination_arn,
                sent.detail,
            )
            self._queue_urls.pop(sent.destination_arn, None)
            return
        sent.status = "sent"
        sent.sent_at = iso(self.notifier.state.now())

    def _sqs(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            settings = self.notifier.settings
            kwargs: dict[str, Any] = {
                "region_name": settings.region,
                "config": Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
            }
            if settings.endpoint_url:
                kwargs.update(endpoint_url=settings.endpoint_url, **_DUMMY_CREDENTIALS)
            self._client = boto3.client("sqs", **kwargs)
        return self._client

    def _queue_url(self, client: Any, arn: str) -> str:
        url = self._queue_urls.get(arn)
        if url is None:
            match = SQS_ARN.match(arn)
            if match is None:
                raise ValueError(f"not an SQS queue ARN: {arn}")
            url = client.get_queue_url(
                QueueName=match["name"], QueueOwnerAWSAccountId=match["account"]
            )["QueueUrl"]
            self._queue_urls[arn] = url
        return str(url)

    def reset_client(self) -> None:
        """Forget the client (the endpoint changed)."""
        self._client = None
        self._queue_urls.clear()
