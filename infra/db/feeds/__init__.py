"""The feed side of the store: submissions (each feed document sent to Amazon) under a lease,
their lost-answer evidence and their processing reports; the messages they carry are moved
through ``FeedMessages`` in the same transactions."""

from infra.db.feeds.messages import FeedMessages
from infra.db.feeds.store import SqlSubmissionStore

__all__ = ["FeedMessages", "SqlSubmissionStore"]
