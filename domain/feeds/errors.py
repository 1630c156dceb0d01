"""What the feed use cases raise, a branch of the domain's one error tree::

DomainError
 └── FeedError
      ├── IllegalFeedTransition   a state change the submission's machine does not allow
      ├── FeedRefused         Amazon refused the call for good (4xx): nothing was created
      ├── AmazonBusy          not now (429, 5xx before the request was taken); ``retry_after``
      └── OutcomeUnknown      createFeed's answer was lost: the feed may exist on Amazon
"""

from __future__ import annotations

from datetime import timedelta

from domain.shared import DomainError


class FeedError(DomainError):
    """Base of what the feed use cases raise."""


class IllegalFeedTransition(FeedError):
    """A state change ``TRANSITIONS`` does not allow."""


class FeedRefused(FeedError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AmazonBusy(FeedError):
    """Amazon did not take the call; it is safe to make it again after ``retry_after``."""

    def __init__(self, reason: str, retry_after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class OutcomeUnknown(FeedError):
    """The request left and no answer came back (a timeout, a 5xx after the body was sent, a
    dropped connection): Amazon may have created the feed. Never resend blindly."""
