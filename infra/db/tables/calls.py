"""The record of SP-API calls that name an order: what ``orders timeline`` shows of Amazon's
side. Kept for ``SPAPI_CALL_RETENTION_DAYS`` (``infra.db.calls`` prunes it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from infra.db.tables.base import Base, UtcTime


class SpApiCall(Base):
    """One HTTP attempt of an SP-API call for one seller, with the Amazon orders it was for
    (one for getOrder or confirmShipment, every order of a feed's messages for the feed's
    calls). ``status`` None: no answer came (``error_code`` names the transport error)."""

    __tablename__ = "spapi_calls"
    __table_args__ = (
        Index("ix_spapi_calls_amazon_order_ids", "amazon_order_ids", postgresql_using="gin"),
        Index("ix_spapi_calls_called_at", "called_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"))
    amazon_order_ids: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    operation: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(10))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(100))
    error_code: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)
    elapsed_ms: Mapped[int] = mapped_column(Integer)
    # The Celery task that made the call (None from the CLI).
    task_name: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(200))
    called_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
