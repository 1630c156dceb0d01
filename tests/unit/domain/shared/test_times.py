"""One parser of times for every door and for Amazon's data: aware UTC, or a refusal with a reason,
never an overflow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.shared import TimeRefused, format_utc, parse_utc


def test_a_time_with_its_zone_comes_back_in_utc() -> None:
    assert parse_utc("2026-11-28T15:04:05+01:00") == datetime(2026, 11, 28, 14, 4, 5, tzinfo=UTC)
    assert parse_utc(" 2026-11-28T14:04:05Z ") == datetime(2026, 11, 28, 14, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "required"),
        (None, "required"),
        (17, "required"),
        ("yesterday", "is not an ISO 8601 time"),
        ("2026-11-28T15:04:05", "has no time zone"),
        ("0001-01-01T00:00:00+14:00", "outside the calendar"),
        ("9999-12-31T23:59:59-14:00", "outside the calendar"),
    ],
)
def test_what_is_not_a_time_we_can_hold_is_refused_with_its_reason(
    text: object, reason: str
) -> None:
    with pytest.raises(TimeRefused, match=reason):
        parse_utc(text)


def test_a_person_may_leave_the_zone_out_and_mean_utc() -> None:
    assert parse_utc("2026-01-01", assume_utc=True) == datetime(2026, 1, 1, tzinfo=UTC)


def test_amazon_reads_whole_seconds_in_utc_and_a_naive_time_is_never_guessed() -> None:
    aware = datetime.fromisoformat("2026-11-28T15:04:05.987+01:00")
    assert format_utc(aware) == "2026-11-28T14:04:05Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_utc(datetime(2026, 11, 28))  # noqa: DTZ001 (the naive time under test)
