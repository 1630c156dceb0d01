"""Amazon's search window: the rules searchOrders and v0 getOrders share (from the models'
parameter notes).

Exactly one of created-after / last-updated-after; the Created* and LastUpdated* pairs do not
mix; "before" defaults to now - 2 minutes and must be >= "after" and <= now - 2 minutes; the
"before" applied is returned so the caller can use Amazon's clock as its watermark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import QueryParams

from infra.amazon.sandbox.errors import invalid
from infra.amazon.sandbox.rules.query import query_time
from infra.amazon.sandbox.state import VISIBILITY_LAG, whole_seconds


@dataclass(frozen=True, slots=True)
class WindowNames:
    created_after: str
    created_before: str
    updated_after: str
    updated_before: str


WINDOW_2026 = WindowNames("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore")
WINDOW_V0 = WindowNames("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore")


def parse_window(query: QueryParams, names: WindowNames, now: datetime) -> tuple[str, str, str]:
    """Check Amazon's window rules; returns (by, after, before) with "before" filled in."""
    created_after = query_time(query, names.created_after)
    created_before = query_time(query, names.created_before)
    updated_after = query_time(query, names.updated_after)
    updated_before = query_time(query, names.updated_before)
    if (created_after or created_before) and (updated_after or updated_before):
        raise invalid(
            f"{names.created_after}/{names.created_before} cannot be combined with "
            f"{names.updated_after}/{names.updated_before}"
        )
    if created_after is None and updated_after is None:
        raise invalid(f"Exactly one of {names.created_after} or {names.updated_after} is required")
    if created_after is not None:
        by, after, before, after_name, before_name = (
            "created",
            created_after,
            created_before,
            names.created_after,
            names.created_before,
        )
    else:
        assert updated_after is not None
        by, after, before, after_name, before_name = (
            "updated",
            updated_after,
            updated_before,
            names.updated_after,
            names.updated_before,
        )
    latest = whole_seconds(now - VISIBILITY_LAG)
    if before is None:
        if after > latest:
            raise invalid(f"{after_name} must be at least two minutes before the current time")
        before = latest
    elif before > now - VISIBILITY_LAG:
        raise invalid(f"{before_name} must be at least two minutes before the current time")
    if before < after:
        raise invalid(f"{before_name} must be equal to or after {after_name}")
    return by, after.isoformat(), before.isoformat()
