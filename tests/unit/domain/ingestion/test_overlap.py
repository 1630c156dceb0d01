"""The overlap a sync reaches back: whole for a quiet seller, cut so that a busy seller's window
fits one searchOrders page, never below its minimum, whole when the last window is unknown."""

from __future__ import annotations

from datetime import timedelta

from domain.ingestion import WindowSeen, fitted_overlap
from domain.ingestion.overlap import MIN_OVERLAP, PAGE_FILL

OVERLAP = timedelta(minutes=5)
MINIMUM = MIN_OVERLAP
FRESH_S = 181.0  # one refill of searchOrders past the watermark


def _fit(last: WindowSeen | None, fresh_s: float = FRESH_S) -> timedelta:
    return fitted_overlap(OVERLAP, last=last, fresh_s=fresh_s, page_size=100)


def test_a_quiet_seller_keeps_the_whole_overlap() -> None:
    assert _fit(WindowSeen(orders=12, span_s=481.0)) == OVERLAP


def test_a_busy_sellers_window_is_cut_to_fill_most_of_one_page() -> None:
    # 20 changes a minute: about 110 orders in 181 s + 300 s, more than a page.
    last = WindowSeen(orders=110, span_s=481.0)
    reach = _fit(last)
    assert MINIMUM < reach < OVERLAP
    expected = (reach.total_seconds() + FRESH_S) * last.orders / last.span_s
    assert expected <= PAGE_FILL * 100 + 1e-6, "the next window fits one page"


def test_never_below_the_minimum_however_busy() -> None:
    assert _fit(WindowSeen(orders=400, span_s=481.0)) == MINIMUM
    assert fitted_overlap(
        timedelta(seconds=30), last=WindowSeen(400, 481.0), fresh_s=FRESH_S, page_size=100
    ) == timedelta(seconds=30), "a configured overlap below the minimum is kept"


def test_without_the_last_window_the_whole_overlap() -> None:
    assert _fit(None) == OVERLAP
    assert _fit(WindowSeen(orders=0, span_s=481.0)) == OVERLAP
    assert _fit(WindowSeen(orders=50, span_s=0.0)) == OVERLAP


def test_a_long_fresh_stretch_leaves_less_room_for_the_overlap() -> None:
    last = WindowSeen(orders=60, span_s=481.0)
    assert _fit(last, fresh_s=181.0) > _fit(last, fresh_s=362.0)
