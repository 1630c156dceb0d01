"""Feeds: one document of many messages sent to Amazon's Feeds API, followed to its processing
report, and never created twice: a ``createFeed`` whose answer was lost is resolved from what
Amazon lists before anything is sent again."""

from domain.feeds.errors import (
    AmazonBusy,
    FeedError,
    FeedRefused,
    IllegalFeedTransition,
    OutcomeUnknown,
)
from domain.feeds.model import (
    RETRYABLE_CODES,
    TRANSITIONS,
    AcknowledgementMessage,
    AdjustedItem,
    AdjustmentMessage,
    CancelledItem,
    FeedMessage,
    FeedStatus,
    FeedType,
    ListedFeed,
    MessageResult,
    ProcessingReport,
    Submission,
    SubmissionState,
    retryable,
)
from domain.feeds.ports import FeedGateway, SubmissionStore

__all__ = [
    "RETRYABLE_CODES",
    "TRANSITIONS",
    "AcknowledgementMessage",
    "AdjustedItem",
    "AdjustmentMessage",
    "AmazonBusy",
    "CancelledItem",
    "FeedError",
    "FeedGateway",
    "FeedMessage",
    "FeedRefused",
    "FeedStatus",
    "FeedType",
    "IllegalFeedTransition",
    "ListedFeed",
    "MessageResult",
    "OutcomeUnknown",
    "ProcessingReport",
    "Submission",
    "SubmissionState",
    "SubmissionStore",
    "retryable",
]
