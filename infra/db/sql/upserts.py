"""Fragments for upserts written with Core."""

from __future__ import annotations

from sqlalchemy import text

# In ``RETURNING`` of an ``INSERT ... ON CONFLICT DO UPDATE``: true when the row was inserted,
# false when an existing one was updated (an updated row's ``xmax`` is the updating transaction).
WAS_INSERTED = text("xmax = 0")
