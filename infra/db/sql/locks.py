"""Session advisory locks keyed by a text key (hashed to PostgreSQL's bigint lock space)."""

from __future__ import annotations

from sqlalchemy import text

TRY_LOCK = text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))")
UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))")
