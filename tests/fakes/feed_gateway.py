"""The FeedGateway port's fake: Amazon's Feeds API in memory, as Amazon behaves.

Documents are JSON here (``render`` writes one, ``create`` reads it back), a feed is processed
on Amazon's own time (``processing_time`` after it was created, at the next call or ``work``),
whether anyone polls it or not, and processing applies each message once per feed: ``applied``
lists (feed id, message id) for every message Amazon applied, which is what "sent once" is
asserted on. ``errors`` scripts a message's result;
``steps`` scripts a failure at a step: an exception raised before the call does anything, or
``after=True`` to raise once it has done it (a feed created whose answer is lost, a worker
killed after the call returned). With ``finances``, each applied adjustment is posted there as
Amazon's Finances would post it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.feeds import (
    AcknowledgementMessage,
    FeedMessage,
    FeedStatus,
    FeedType,
    ListedFeed,
    MessageResult,
    ProcessingReport,
)
from domain.refunds import AmazonRefund, AmazonRefundItem, Component
from domain.shared import Money
from tests.fakes.clock import FixedClock
from tests.fakes.finances_gateway import FakeFinances


class Killed(BaseException):
    """The worker died here (a BaseException: no ``except Exception`` of ours catches it)."""


@dataclass
class Failure:
    error: BaseException
    after: bool = False  # raise after the call took effect


@dataclass
class AmazonFeed:
    feed_id: str
    account_id: int
    feed_type: FeedType
    marketplace_id: str
    document_id: str
    created_at: datetime
    status: str = "IN_QUEUE"
    result_document_id: str | None = None


def _message_json(message: FeedMessage) -> dict[str, Any]:
    if isinstance(message, AcknowledgementMessage):
        return {
            "kind": "ack",
            "id": message.message_id,
            "order": message.amazon_order_id,
            "reason": message.cancel_reason,
        }
    return {
        "kind": "adjustment",
        "id": message.message_id,
        "order": message.amazon_order_id,
        "items": [
            {
                "order_item_id": item.order_item_id,
                "merchant_adjustment_item_id": item.merchant_adjustment_item_id,
                "reason": item.reason,
                "components": [[c, str(m.amount), m.currency] for c, m in item.components],
                "quantity_cancelled": item.quantity_cancelled,
            }
            for item in message.items
        ],
    }


@dataclass
class FakeFeeds:
    clock: FixedClock
    finances: FakeFinances | None = None
    documents: dict[str, bytes] = field(default_factory=dict)
    feeds: dict[str, AmazonFeed] = field(default_factory=dict)
    reports: dict[str, bytes] = field(default_factory=dict)
    applied: list[tuple[str, int]] = field(default_factory=list)
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)  # message id: (code, text)
    # Ends processing so instead of DONE (FATAL, CANCELLED).
    final_status: str = "DONE"
    processing_time: timedelta = timedelta(0)
    steps: dict[str, list[Failure]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    rendered: list[tuple[FeedType, tuple[FeedMessage, ...]]] = field(default_factory=list)

    def fail(self, step: str, error: BaseException, *, after: bool = False) -> None:
        self.steps.setdefault(step, []).append(Failure(error, after))

    def work(self) -> None:
        """Amazon processes what is due, polled or not."""
        for feed in self.feeds.values():
            if feed.status in ("IN_QUEUE", "IN_PROGRESS"):
                if self.clock.now() >= feed.created_at + self.processing_time:
                    self._process(feed)
                else:
                    feed.status = "IN_PROGRESS"

    def _before(self, step: str) -> Failure | None:
        self.work()
        self.calls.append(step)
        queued = self.steps.get(step)
        if not queued:
            return None
        failure = queued.pop(0)
        if not failure.after:
            raise failure.error
        return failure

    # -- the port -----------------------------------------------------------------------------

    def render(
        self, account_id: int, feed_type: FeedType, messages: Sequence[FeedMessage]
    ) -> bytes:
        queued = self.steps.get("render")
        if queued:
            raise queued.pop(0).error
        self.rendered.append((feed_type, tuple(messages)))
        body = {"type": feed_type.value, "messages": [_message_json(m) for m in messages]}
        return json.dumps(body).encode()

    def upload(self, account_id: int, document: bytes) -> str:
        failure = self._before("upload")
        document_id = f"DOC-{len(self.documents) + 1}"
        self.documents[document_id] = document
        if failure is not None:
            raise failure.error
        return document_id

    def create(
        self, account_id: int, feed_type: FeedType, marketplace_id: str, feed_document_id: str
    ) -> str:
        failure = self._before("create")
        if feed_document_id not in self.documents:
            raise AssertionError(f"createFeed names a document never uploaded: {feed_document_id}")
        feed_id = self.add_feed(account_id, feed_type, marketplace_id, feed_document_id)
        if failure is not None:
            raise failure.error
        return feed_id

    def add_feed(
        self,
        account_id: int,
        feed_type: FeedType,
        marketplace_id: str,
        document_id: str = "",
        created_at: datetime | None = None,
    ) -> str:
        feed_id = f"{50001 + len(self.feeds)}"
        when = created_at or self.clock.now()
        self.feeds[feed_id] = AmazonFeed(
            feed_id, account_id, feed_type, marketplace_id, document_id, when
        )
        return feed_id

    def status(self, account_id: int, amazon_feed_id: str) -> FeedStatus:
        failure = self._before("status")
        feed = self.feeds[amazon_feed_id]
        if failure is not None:
            raise failure.error
        return FeedStatus(feed.status, feed.result_document_id)

    def report(self, account_id: int, result_document_id: str) -> tuple[bytes, ProcessingReport]:
        failure = self._before("report")
        data = self.reports[result_document_id]
        parsed = json.loads(data)
        results = tuple(
            MessageResult(r["id"], "Error", r["code"], r["text"]) for r in parsed["errors"]
        )
        report = ProcessingReport(
            processed=parsed["processed"],
            successful=parsed["processed"] - len(results),
            with_error=len(results),
            with_warning=0,
            results=results,
        )
        if failure is not None:
            raise failure.error
        return data, report

    def listed(
        self,
        account_id: int,
        feed_type: FeedType,
        marketplace_id: str,
        since: datetime,
        until: datetime,
    ) -> tuple[ListedFeed, ...]:
        failure = self._before("listed")
        found = tuple(
            ListedFeed(feed.feed_id, feed.feed_type.value, feed.created_at, feed.status)
            for feed in self.feeds.values()
            if feed.account_id == account_id
            and feed.feed_type is feed_type
            and feed.marketplace_id == marketplace_id
            and since <= feed.created_at <= until
        )
        if failure is not None:
            raise failure.error
        return found

    # -- Amazon's processing ------------------------------------------------------------------

    def _process(self, feed: AmazonFeed) -> None:
        feed.status = self.final_status
        if feed.status != "DONE":
            return
        document = json.loads(self.documents[feed.document_id]) if feed.document_id else None
        messages = document["messages"] if document else []
        errors = []
        for message in messages:
            scripted = self.errors.get(message["id"])
            if scripted is not None:
                errors.append({"id": message["id"], "code": scripted[0], "text": scripted[1]})
                continue
            self.applied.append((feed.feed_id, message["id"]))
            self._post(feed, message)
        result_id = f"RESULT-{feed.feed_id}"
        self.reports[result_id] = json.dumps(
            {"feed": feed.feed_id, "processed": len(messages), "errors": errors}
        ).encode()
        feed.result_document_id = result_id

    def _post(self, feed: AmazonFeed, message: dict[str, Any]) -> None:
        if self.finances is None or message["kind"] != "adjustment":
            return
        items = tuple(
            AmazonRefundItem(
                order_item_id=item["order_item_id"],
                sku=None,
                adjustment_item_id=f"ADJ-{feed.feed_id}-{item['merchant_adjustment_item_id']}",
                amounts=tuple(
                    (Component(c), Money(abs(Decimal(a)), currency))
                    for c, a, currency in item["components"]
                ),
            )
            for item in message["items"]
        )
        posted_at = self.clock.now() + timedelta(seconds=1)
        self.finances.post(AmazonRefund(message["order"], posted_at, "Amazon.com", items))

    def applied_messages(self) -> list[int]:
        return sorted(message_id for _, message_id in self.applied)
