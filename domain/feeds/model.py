"""A feed submission's life on Amazon, and what its processing report says per message.

One submission is one feed document of one type for one seller and marketplace, carrying many
messages (each ``MessageID`` is the id of the thing it carries: a refund, a cancellation).
States (``SubmissionState``)::

    built ──upload──▶ uploaded ──createFeed sent──▶ creating ──answer──▶ created ──▶ done
                                                      │  (answer lost:       │
                                                      │   maybe applied)     └──▶ fatal
                                                      ├──▶ created  (found on Amazon: getFeeds)
                                                      └──▶ not_created (proven absent: resend)

``creating`` is written (committed) before ``createFeed`` leaves, so a worker killed while the
request is in flight leaves a submission that says "maybe applied": nobody sends its messages
again until ``resolve_unknown`` has found out what Amazon did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.shared import Money


class FeedType(StrEnum):
    ADJUSTMENT = "POST_PAYMENT_ADJUSTMENT_DATA"  # refunds and partial cancellations
    ACKNOWLEDGEMENT = "POST_ORDER_ACKNOWLEDGEMENT_DATA"  # whole-order cancellations (Failure)


class SubmissionState(StrEnum):
    BUILT = "built"
    UPLOADED = "uploaded"
    CREATING = "creating"
    CREATED = "created"
    DONE = "done"
    FATAL = "fatal"
    NOT_CREATED = "not_created"


TRANSITIONS: Mapping[SubmissionState, frozenset[SubmissionState]] = {
    SubmissionState.BUILT: frozenset({SubmissionState.UPLOADED}),
    # uploaded -> uploaded: the document's upload URL ran out; a new document is uploaded.
    SubmissionState.UPLOADED: frozenset({SubmissionState.UPLOADED, SubmissionState.CREATING}),
    SubmissionState.CREATING: frozenset(
        {SubmissionState.CREATED, SubmissionState.NOT_CREATED, SubmissionState.UPLOADED}
    ),
    SubmissionState.CREATED: frozenset({SubmissionState.DONE, SubmissionState.FATAL}),
    SubmissionState.DONE: frozenset(),
    SubmissionState.FATAL: frozenset(),
    SubmissionState.NOT_CREATED: frozenset(),
}


# --- what a document carries (Amazon's feed shapes, as values) -------------------------------


@dataclass(frozen=True, slots=True)
class AdjustedItem:
    """One ``AdjustedItem``: amounts are line totals, positive = credited to the buyer, except
    ``RestockingFee``, which is negative (kept back)."""

    order_item_id: str
    merchant_adjustment_item_id: str  # our refund line's id: it comes back in settlements
    reason: str  # Amazon's AdjustmentReason
    components: tuple[tuple[str, Money], ...]  # (Amazon's component Type, amount)
    quantity_cancelled: int = 0


@dataclass(frozen=True, slots=True)
class AdjustmentMessage:
    message_id: int
    amazon_order_id: str
    items: tuple[AdjustedItem, ...]


@dataclass(frozen=True, slots=True)
class CancelledItem:
    order_item_id: str
    cancel_reason: str  # Amazon's CancelReason


@dataclass(frozen=True, slots=True)
class AcknowledgementMessage:
    """``StatusCode`` Failure: cancel the order (no items: all of it)."""

    message_id: int
    amazon_order_id: str
    cancel_reason: str
    items: tuple[CancelledItem, ...] = ()


FeedMessage = AdjustmentMessage | AcknowledgementMessage


# --- the submission and Amazon's answer ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submission:
    id: int
    account_id: int
    marketplace_id: str
    feed_type: FeedType
    state: SubmissionState
    message_ids: tuple[int, ...]
    document: bytes
    created_at: datetime
    feed_document_id: str | None = None
    amazon_feed_id: str | None = None
    # The createFeed call's window: a feed Amazon created from it has its createdTime in here.
    create_started_at: datetime | None = None
    create_ended_at: datetime | None = None
    processing_status: str | None = None
    result_document_id: str | None = None
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class FeedStatus:
    processing_status: str  # IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL
    result_document_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.processing_status in ("DONE", "CANCELLED", "FATAL")


@dataclass(frozen=True, slots=True)
class ListedFeed:
    """A feed ``getFeeds`` listed: what the lost-answer evidence is made of."""

    amazon_feed_id: str
    feed_type: str
    created_at: datetime
    processing_status: str


@dataclass(frozen=True, slots=True)
class MessageResult:
    """One ``Result`` of the processing report. ``message_id`` 0: the whole document."""

    message_id: int
    result_code: str  # "Error" or "Warning"
    message_code: str  # Amazon's ResultMessageCode
    description: str
    amazon_order_id: str | None = None

    @property
    def is_error(self) -> bool:
        return self.result_code == "Error"


@dataclass(frozen=True, slots=True)
class ProcessingReport:
    processed: int
    successful: int
    with_error: int
    with_warning: int
    results: tuple[MessageResult, ...]


# Amazon's ResultMessageCodes after which the same message may succeed in a later feed
# (Amazon's side was briefly unable); every other error is the message's own fault.
RETRYABLE_CODES = frozenset({"5002", "6024"})


def retryable(result: MessageResult) -> bool:
    return result.is_error and result.message_code in RETRYABLE_CODES
