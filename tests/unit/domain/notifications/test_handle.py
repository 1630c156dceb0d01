"""The refresh threshold follows Amazon's usage plans, and each notification's effect."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.notifications import (
    FeedFinished,
    FetchPayouts,
    NoEffect,
    ReportFinished,
    WakeFeed,
    effect_of,
    refresh_threshold,
)
from infra.amazon.models import usage_plan

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_threshold_is_what_get_order_serves_between_two_search_orders_calls() -> None:
    get_order, search = usage_plan("orders2026.getOrder"), usage_plan("orders2026.searchOrders")
    assert (get_order.rate, get_order.burst) == (0.5, 30)
    assert refresh_threshold(get_order.rate, get_order.burst - 1, search.rate) == 118
    # The same factor on both rates (safety, the sandbox's speed-up) changes nothing.
    assert refresh_threshold(get_order.rate * 50, 29, search.rate * 50) == 118
    with pytest.raises(ValueError):
        refresh_threshold(0.5, 29, 0)


def test_a_feed_wakes_its_submission_and_only_a_settlement_report_fetches_payouts() -> None:
    feed = FeedFinished("n1", "S1", "5001", "POST_PAYMENT_ADJUSTMENT_DATA", "DONE", None, NOW)
    assert effect_of(feed) == WakeFeed("S1", "5001")
    settlement = ReportFinished(
        "n2", "S1", "r1", "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "DONE", "d", NOW
    )
    assert effect_of(settlement) == FetchPayouts("S1")
    other = ReportFinished("n3", "S1", "r2", "GET_FLAT_FILE_OPEN_LISTINGS_DATA", "DONE", "d", NOW)
    assert isinstance(effect_of(other), NoEffect)
