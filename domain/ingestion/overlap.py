"""How far a sync reaches back before its watermark: the configured overlap, unless that would
cost a second ``searchOrders`` page.

Each sync re-reads ``overlap`` before its watermark, for the updates Amazon's search shows later
than its two minutes. A steady seller gets one ``searchOrders`` call per refill (every ~181 s),
and a call reads one page (at most 100 orders). A window of more than a page costs a second
call, which that one refill does not cover: the seller is then synced once per two refills,
and polling's lag grows by three minutes. A busy seller (20 changes a minute holds about 110
orders in 181 s plus 5 minutes of overlap) would live with that. So the overlap is fitted: the
new window is expected to hold what the last one held per second (its orders over its span),
and the overlap is cut to what fills ``PAGE_FILL`` of a page with the fresh stretch (watermark
to now minus Amazon's two minutes), never below ``MIN_OVERLAP``. A quiet seller keeps the whole
overlap; a seller too busy for one page even at the minimum gets the minimum (its windows take
pages however they are cut). Without the last window's numbers, the whole overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# The share of a page the fitted window aims at: room for a burst of changes.
PAGE_FILL = 0.8
# Amazon's search shows an update two minutes after it: a window ends that long before now.
SEARCH_VISIBILITY = timedelta(minutes=2)
# The least a busy seller's overlap is cut to: a minute past Amazon's two.
MIN_OVERLAP = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class WindowSeen:
    """What the last closed window read: its orders over its span."""

    orders: int
    span_s: float


def fitted_overlap(
    overlap: timedelta,
    *,
    last: WindowSeen | None,
    fresh_s: float,
    page_size: int,
    minimum: timedelta = MIN_OVERLAP,
) -> timedelta:
    """The reach-back before the watermark for the next window; ``fresh_s`` is how long the
    window runs past the watermark (to Amazon's "before")."""
    floor = min(minimum, overlap)
    if last is None or last.span_s <= 0 or last.orders <= 0:
        return overlap
    per_second = last.orders / last.span_s
    room_s = PAGE_FILL * page_size / per_second - max(0.0, fresh_s)
    return max(floor, min(overlap, timedelta(seconds=room_s)))
