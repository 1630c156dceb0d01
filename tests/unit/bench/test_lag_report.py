"""The lag benchmark's arithmetic: changes matched to their webhooks, percentiles, targets."""

from __future__ import annotations

import pytest

from bench.lag_report import Arrival, Change, lags, percentile, summary, table


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 95) is None
    with pytest.raises(ValueError, match="not in"):
        percentile([1.0], 0)


def test_a_change_is_delivered_by_the_first_later_webhook_with_its_status() -> None:
    changes = [Change("o1", "PENDING", 100.0), Change("o1", "UNSHIPPED", 200.0)]
    arrivals = [
        Arrival("o1", "orders/created", "PENDING", 103.0),
        # The same event delivered again: the first one counts.
        Arrival("o1", "orders/created", "PENDING", 104.0),
        # Before the change: not its delivery.
        Arrival("o1", "orders/updated", "UNSHIPPED", 150.0),
        Arrival("o1", "orders/updated", "UNSHIPPED", 230.0),
        Arrival("o2", "orders/created", "UNSHIPPED", 205.0),
    ]
    assert lags(changes, arrivals) == ([3.0, 30.0], 0)


def test_a_change_without_its_webhook_is_missing() -> None:
    changes = [Change("o1", "PENDING", 100.0), Change("o2", "UNSHIPPED", 100.0)]
    arrivals = [Arrival("o2", "orders/created", "PENDING", 101.0)]  # not the status changed to
    assert lags(changes, arrivals) == ([], 2)


def test_summary_meets_the_target_only_with_none_missing() -> None:
    changes = [Change(f"o{n}", "PENDING", 0.0) for n in range(20)]
    quick = [Arrival(f"o{n}", "orders/created", "PENDING", 2.0 + n / 10) for n in range(20)]
    numbers = summary("notifications", changes, quick)
    assert numbers["p50_s"] == 2.9
    assert numbers["p95_s"] == 3.8
    assert numbers["p99_s"] == 3.9
    assert numbers["missing"] == 0
    assert numbers["met"] is True
    assert summary("notifications", changes, quick[:-1])["met"] is False  # one missing
    slow = [Arrival(a.order_id, a.topic, a.status, a.at + 20) for a in quick]
    assert summary("notifications", changes, slow)["met"] is False  # p95 over 15 s
    assert summary("polling", changes, slow)["met"] is True


def test_the_table_shows_both_modes_side_by_side() -> None:
    changes = [Change("o1", "PENDING", 0.0)]
    fast = summary("notifications", changes, [Arrival("o1", "orders/created", "PENDING", 2.5)])
    slow = summary("polling", changes, [])
    lines = table([("1 seller", {"notifications": fast, "polling": slow})])
    assert lines[0].split() == ["with", "notifications", "polling", "only"]
    assert "2.5s/2.5s/2.5s (0/1 missing)" in lines[1]
    assert "-/-/- (1/1 missing)" in lines[1]
    assert "15 s" in lines[-1] and "300 s" in lines[-1]
