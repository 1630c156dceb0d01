"""Feed submissions: each document sent to Amazon's Feeds API, kept with its processing report
(Amazon keeps both for 28 days only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from infra.db.tables.base import Base, UtcTime


class FeedSubmission(Base):
    """One feed document of one type for one seller and marketplace. ``state`` follows
    ``domain.feeds.SubmissionState``; 'creating' is committed before ``createFeed`` leaves,
    and ``create_started_at`` .. ``create_ended_at`` is the window Amazon's feed, if it made
    one, was created in."""

    __tablename__ = "feed_submissions"
    __table_args__ = (
        Index("ix_feed_submissions_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_feed_submissions_account_id_amazon_feed_id", "account_id", "amazon_feed_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    feed_type: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(20), server_default=text("'built'"))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    message_count: Mapped[int] = mapped_column(Integer)
    feed_document_id: Mapped[str | None] = mapped_column(String(200))
    amazon_feed_id: Mapped[str | None] = mapped_column(String(60))
    create_started_at: Mapped[datetime | None] = mapped_column(UtcTime)
    create_ended_at: Mapped[datetime | None] = mapped_column(UtcTime)
    processing_status: Mapped[str | None] = mapped_column(String(20))
    result_document_id: Mapped[str | None] = mapped_column(String(200))
    report: Mapped[bytes | None] = mapped_column(LargeBinary)
    # How a lost createFeed answer was resolved (which feed was found, or why none was).
    evidence: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UtcTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(UtcTime)
    updated_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
