"""API tokens for the platform's producers (``amazon-channel tokens``): only a hash is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import func

from infra.db.tables.base import Base, UtcTime


class ApiToken(Base):
    """One producer's bearer token: its SHA-256 (hex), never the token; optionally limited to
    some accounts (None: every account). Revoked ones stay, so a name is never reused."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    created_at: Mapped[datetime] = mapped_column(UtcTime, server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcTime)

    def __repr__(self) -> str:
        return f"ApiToken(id={self.id!r}, name={self.name!r})"
