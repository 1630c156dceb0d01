"""What the feed use cases need from outside: Amazon's Feeds API (with the XML written and read
at the edge) and the store that keeps each submission, its document and its report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from domain.feeds.model import (
    FeedMessage,
    FeedStatus,
    FeedType,
    ListedFeed,
    ProcessingReport,
    Submission,
)
from domain.feeds.outcomes import MessageOutcome


class FeedGateway(Protocol):
    def render(
        self, account_id: int, feed_type: FeedType, messages: Sequence[FeedMessage]
    ) -> bytes:
        """The feed document (an ``AmazonEnvelope``), built with an XML library."""
        ...

    def upload(self, account_id: int, document: bytes) -> str:
        """createFeedDocument, then the upload: the ``feedDocumentId``. Safe to repeat (a new
        document each time; nothing is processed until a feed names it)."""
        ...

    def create(
        self, account_id: int, feed_type: FeedType, marketplace_id: str, feed_document_id: str
    ) -> str:
        """createFeed: Amazon's ``feedId``. Raises ``AmazonBusy`` (not created: 429, or refused
        before it was taken), ``FeedRefused`` (4xx) or ``OutcomeUnknown`` (maybe created)."""
        ...

    def status(self, account_id: int, amazon_feed_id: str) -> FeedStatus:
        """getFeed. Raises ``AmazonBusy``."""
        ...

    def report(self, account_id: int, result_document_id: str) -> tuple[bytes, ProcessingReport]:
        """The processing report, as downloaded (unzipped) and parsed per message."""
        ...

    def listed(
        self,
        account_id: int,
        feed_type: FeedType,
        marketplace_id: str,
        since: datetime,
        until: datetime,
    ) -> tuple[ListedFeed, ...]:
        """getFeeds of that type and marketplace created in [since, until] (every page)."""
        ...


class SubmissionStore(Protocol):
    def submission(self, submission_id: int) -> Submission | None: ...

    def claim_submission(
        self, submission_id: int, owner: str, lease: timedelta
    ) -> Submission | None:
        """Take the submission under ``owner``'s lease (attempts + 1), committed before
        returning; None when a live lease holds it (whoever asks: ``owner`` is one attempt's
        fresh token) or it is finished. Its due date is cleared: if this attempt dies, the
        sweeper takes it again as soon as the lease runs out."""
        ...

    def renew_submission(self, submission_id: int, owner: str, lease: timedelta) -> bool:
        """Push ``owner``'s lease on to now + ``lease`` (the heartbeat, and the check right
        before a call to Amazon); False when the lease is no longer ``owner``'s."""
        ...

    def let_go_submission(self, submission_id: int, owner: str) -> bool:
        """End ``owner``'s lease now, nothing else changed (an attempt that ended without
        giving it back: an error); False when ``owner`` held nothing."""
        ...

    def record_uploaded(self, submission_id: int, owner: str, feed_document_id: str) -> bool: ...

    def record_creating(self, submission_id: int, owner: str, started_at: datetime) -> bool:
        """uploaded -> creating, committed before createFeed leaves."""
        ...

    def record_created(
        self, submission_id: int, owner: str, amazon_feed_id: str, ended_at: datetime | None
    ) -> bool: ...

    def record_create_window_end(self, submission_id: int, owner: str, ended_at: datetime) -> bool:
        """The answer was lost at ``ended_at``: the window in which Amazon's feed, if any, was
        created is now closed."""
        ...

    def record_not_created(self, submission_id: int, owner: str, evidence: str) -> bool:
        """creating -> not_created with the evidence; its messages become sendable again."""
        ...

    def record_status(self, submission_id: int, owner: str, status: FeedStatus) -> bool: ...

    def known_feed_ids(self, account_id: int, amazon_feed_ids: Sequence[str]) -> frozenset[str]:
        """Which of these feeds are already some submission's."""
        ...

    def release_submission(
        self, submission_id: int, owner: str, retry_in: timedelta, error: str
    ) -> bool:
        """Give the lease up; due again after ``retry_in``."""
        ...

    # -- what the use cases added: the paths out of creating, the report, and the sweep ------

    def record_not_taken(
        self, submission_id: int, owner: str, retry_in: timedelta, error: str
    ) -> bool:
        """creating -> uploaded: Amazon did not take createFeed (``AmazonBusy``); the lease is
        given up and the submission is due again after ``retry_in``."""
        ...

    def record_refused(self, submission_id: int, owner: str, code: str, message: str) -> bool:
        """creating -> not_created: Amazon refused createFeed for good; every message fails with
        Amazon's code and text (with its event), in the same transaction."""
        ...

    def record_found(
        self, submission_id: int, owner: str, amazon_feed_id: str, evidence: str
    ) -> bool:
        """creating -> created: the feed a lost answer made, found in Amazon's listing, adopted
        with the evidence."""
        ...

    def record_undecided(
        self, submission_id: int, owner: str, evidence: str, retry_in: timedelta
    ) -> bool:
        """Stays creating (nothing is resent): why it could not be decided yet is written down,
        the lease given up, due again after ``retry_in``."""
        ...

    def record_report(
        self,
        submission_id: int,
        owner: str,
        report: bytes,
        outcomes: Sequence[MessageOutcome],
        resend_up_to: int,
    ) -> bool:
        """created -> done in ONE transaction: the report's bytes stored and each message's
        outcome applied with its event (applied: confirmed; failed: Amazon's code and text;
        retry: sendable again while it has been in at most ``resend_up_to`` feeds Amazon
        created, failed after that). Only messages still in this submission move."""
        ...

    def record_fatal(
        self, submission_id: int, owner: str, status: FeedStatus, reason: str, resend_up_to: int
    ) -> bool:
        """created -> fatal with the reason; its messages sendable again while they have been in
        at most ``resend_up_to`` feeds Amazon created, failed with the reason after that."""
        ...

    def due_submissions(
        self, limit: int, resend_after: timedelta, lost_before: datetime | None = None
    ) -> list[int]:
        """Unfinished submissions of connected accounts that are due and that no live lease
        holds, oldest first; each pushed ``resend_after`` on so the next sweep skips it. With
        ``lost_before`` (the broker lost its messages), those due before it count as due now."""
        ...
