"""What a feed carries, as the submission store sees it: messages it moves with the submission
(counted when Amazon created the feed, sendable again when it did not, failed when it refused,
settled by the report), in the submission's transaction. The refund store's
``infra.db.refunds.sending.RefundFeedMessages`` is the one kind today; the store itself knows
no refund."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Connection

from domain.feeds import MessageOutcome


class FeedMessages(Protocol):
    def message_ids(self, conn: Connection, submission_id: int) -> tuple[int, ...]:
        """The messages the submission carries (or carried), in id order."""
        ...

    def created(self, conn: Connection, submission_id: int) -> None:
        """Amazon created a feed with them: each has been in one more created feed."""
        ...

    def sendable_again(self, conn: Connection, submission_id: int) -> int:
        """The feed was proven not created: its messages go in a later feed."""
        ...

    def refused(self, conn: Connection, submission_id: int, code: str, message: str) -> int:
        """createFeed was refused for good: each message fails with the reason."""
        ...

    def settle(
        self,
        conn: Connection,
        submission_id: int,
        outcomes: Sequence[MessageOutcome],
        resend_up_to: int,
    ) -> int:
        """Apply the report's outcome to each message still in the submission."""
        ...

    def fatal(self, conn: Connection, submission_id: int, reason: str, resend_up_to: int) -> int:
        """Amazon's processing ended FATAL or CANCELLED: each message is sent again while it
        has been in at most ``resend_up_to`` created feeds, failed after that."""
        ...
