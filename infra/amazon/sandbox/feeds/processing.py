"""How a feed moves on and what processing it does: status steps, then each message applied.

Status progression, deterministic: a feed moves IN_QUEUE -> IN_PROGRESS -> DONE (or FATAL) by
whichever comes first of (a) getFeed calls: the first shows IN_QUEUE, the second IN_PROGRESS,
the third the outcome; (b) sandbox time: IN_PROGRESS from 30 s after creation, finished from
60 s (``POST /_sandbox/clock/advance``). Reads (getFeeds, cancelFeed, the control views) apply
rule (b) only. With a processing time set (``POST /_sandbox/feed-settings``
``{"processing_seconds": T}``, taken by each feed when it is created) only sandbox time counts:
IN_PROGRESS from T/2 after creation, finished from T, however often getFeed polls.
``POST /_sandbox/feeds/{feedId}/process`` finishes a feed at once either way. The document is
applied to orders at the moment the feed finishes, never before. Only an IN_QUEUE feed can be
cancelled, and a cancelled feed applies nothing.

FATAL: a feed type other than the three of ``FEED_MESSAGE_TYPES``, or an input document never
uploaded. The feed still gets a result document: a report with one error for the whole
document. A document that is not XML or not the envelope is DONE (as Amazon does) with zero
messages processed.

Each ``Message`` needs a unique positive ``MessageID``, an optional ``OperationType`` of
``Update`` and the element named by ``MessageType``. Unknown elements are ignored. Messages are
applied in document order, each wholly or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from xml.etree.ElementTree import Element

from infra.amazon.sandbox.feeds.acknowledgement import acknowledge
from infra.amazon.sandbox.feeds.adjustment import adjust
from infra.amazon.sandbox.feeds.envelope import (
    CODE_SCHEMA,
    CODE_UNSUPPORTED,
    MessageError,
    child_text,
    first_child,
    parse_envelope,
)
from infra.amazon.sandbox.feeds.fulfilment import fulfil
from infra.amazon.sandbox.feeds.report import write_report
from infra.amazon.sandbox.state import FeedResult, SandboxFeed, SandboxState, whole_seconds

# Feed type -> the MessageType its document must carry.
FEED_MESSAGE_TYPES = {
    "POST_ORDER_FULFILLMENT_DATA": "OrderFulfillment",
    "POST_ORDER_ACKNOWLEDGEMENT_DATA": "OrderAcknowledgement",
    "POST_PAYMENT_ADJUSTMENT_DATA": "OrderAdjustment",
}
FEED_STEP = timedelta(seconds=30)  # sandbox time per status step (module docstring)

# MessageType -> what one message of it does; returns what it did, for the control view.
Applier = Callable[[SandboxState, SandboxFeed, Element, int], dict[str, Any]]
_APPLIERS: dict[str, Applier] = {
    "OrderFulfillment": fulfil,
    "OrderAcknowledgement": acknowledge,
    "OrderAdjustment": adjust,
}


def advance(state: SandboxState, feed: SandboxFeed, *, polled: bool = False) -> None:
    """Move a feed on by the rules of the module docstring (caller holds ``state.lock``)."""
    if feed.finished:
        return
    if polled:
        feed.polls += 1
    if feed.processing_seconds is not None:
        age = state.now() - (feed.submitted_at or feed.created_at)
        total = timedelta(seconds=feed.processing_seconds)
        step = 2 if age >= total else 1 if age >= total / 2 else 0
    else:
        age = state.now() - feed.created_at
        by_clock = 2 if age >= 2 * FEED_STEP else 1 if age >= FEED_STEP else 0
        step = min(2, max(feed.polls - 1, by_clock))
    if step >= 1 and feed.status == "IN_QUEUE":
        feed.status = "IN_PROGRESS"
        feed.started_at = whole_seconds(state.now())
    if step >= 2 and feed.status == "IN_PROGRESS":
        process(state, feed)


def finish(state: SandboxState, feed: SandboxFeed) -> None:
    """Process a queued or running feed now (the control API's shortcut)."""
    if feed.finished:
        return
    if feed.status == "IN_QUEUE":
        feed.status = "IN_PROGRESS"
        feed.started_at = whole_seconds(state.now())
    process(state, feed)


def process(state: SandboxState, feed: SandboxFeed) -> None:
    """Apply the feed's document to the seller's orders and write the processing report."""
    message_type = FEED_MESSAGE_TYPES.get(feed.feed_type)
    results: list[FeedResult] = []
    feed.status = "DONE"
    if message_type is None:
        feed.status = "FATAL"
        feed.fatal_reason = f"Feed type {feed.feed_type} is not supported by the sandbox"
        results.append(FeedResult(0, "Error", CODE_UNSUPPORTED, feed.fatal_reason))
    elif feed.content is None:
        feed.status = "FATAL"
        feed.fatal_reason = f"The input feed document {feed.input_document_id} was never uploaded"
        results.append(FeedResult(0, "Error", CODE_UNSUPPORTED, feed.fatal_reason))
    else:
        try:
            _, messages = parse_envelope(feed.content, message_type)
        except MessageError as exc:
            results.append(FeedResult(0, "Error", exc.code, exc.description))
        else:
            seen: set[int] = set()
            for message in messages:
                result = _process_message(state, feed, message_type, message, seen)
                if result is not None:
                    results.append(result)
    feed.results = results
    feed.ended_at = whole_seconds(state.now())
    write_report(state, feed)
    state.notifier.feed_finished(feed)  # FEED_PROCESSING_FINISHED to its subscribers


def _process_message(
    state: SandboxState,
    feed: SandboxFeed,
    message_type: str,
    message: Element,
    seen: set[int],
) -> FeedResult | None:
    feed.messages_processed += 1
    raw_id = child_text(message, "MessageID") or ""
    message_id = int(raw_id) if raw_id.isdigit() else 0
    order_id: str | None = None
    try:
        if message_id <= 0:
            raise MessageError(
                CODE_SCHEMA, f"Message/MessageID must be a positive integer, not {raw_id!r}"
            )
        if message_id in seen:
            raise MessageError(CODE_SCHEMA, f"MessageID {message_id} is used by an earlier Message")
        seen.add(message_id)
        operation = child_text(message, "OperationType") or "Update"
        if operation != "Update":
            raise MessageError(
                CODE_SCHEMA, f"OperationType {operation} is not supported for {message_type}"
            )
        body = first_child(message, message_type)
        if body is None:
            raise MessageError(CODE_SCHEMA, f"Message/{message_type} is required")
        order_id = child_text(body, "AmazonOrderID")
        outcome = _APPLIERS[message_type](state, feed, body, message_id)
    except MessageError as exc:
        order_id = exc.order_id or order_id
        feed.messages.append(
            {
                "message_id": message_id,
                "amazon_order_id": order_id,
                "result": "Warning" if exc.warning else "Error",
                "description": exc.description,
            }
        )
        info = (("AmazonOrderID", order_id),) if order_id else ()
        if exc.warning:
            feed.messages_successful += 1
            feed.messages_with_warning += 1
        else:
            feed.messages_with_error += 1
        return FeedResult(
            message_id, "Warning" if exc.warning else "Error", exc.code, exc.description, info
        )
    feed.messages_successful += 1
    feed.messages.append(
        {"message_id": message_id, "amazon_order_id": order_id, "result": "Success", **outcome}
    )
    return None
