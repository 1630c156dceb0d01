"""Feeds: one document of many messages sent to Amazon's Feeds API, followed to its processing
report, and never created twice: a ``createFeed`` whose answer was lost is resolved from what
Amazon lists before anything is sent again. ``advance`` moves one submission on under a lease;
``read_report`` says what the processing report means for each message."""

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
from domain.feeds.outcomes import MessageOutcome, ReportReading, Verdict, read_report
from domain.feeds.ports import FeedGateway, SubmissionStore
from domain.feeds.submit import (
    AdvanceResult,
    FeedPolicy,
    Outcome,
    advance,
    due_submissions,
    resolve_unknown,
)

__all__ = [
    "RETRYABLE_CODES",
    "TRANSITIONS",
    "AcknowledgementMessage",
    "AdjustedItem",
    "AdjustmentMessage",
    "AdvanceResult",
    "AmazonBusy",
    "CancelledItem",
    "FeedError",
    "FeedGateway",
    "FeedMessage",
    "FeedPolicy",
    "FeedRefused",
    "FeedStatus",
    "FeedType",
    "IllegalFeedTransition",
    "ListedFeed",
    "MessageOutcome",
    "MessageResult",
    "Outcome",
    "OutcomeUnknown",
    "ProcessingReport",
    "ReportReading",
    "Submission",
    "SubmissionState",
    "SubmissionStore",
    "Verdict",
    "advance",
    "due_submissions",
    "read_report",
    "resolve_unknown",
    "retryable",
]
