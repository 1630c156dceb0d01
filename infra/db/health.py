"""Whether PostgreSQL answers, for the web process's health probe."""

from __future__ import annotations

from sqlalchemy import Engine, text


def ping(engine: Engine) -> None:
    """One round trip (``SELECT 1``); raises what the driver raises when the server is away."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
