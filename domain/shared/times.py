"""Times in and out: the one parser of ISO 8601 text into timezone-aware UTC.

Every door, Amazon's translation and the CLI read times with ``parse_utc``, so they refuse alike
and none of them can overflow: ``datetime.astimezone`` raises ``OverflowError`` for a time at the
calendar's edge whose offset moves it past year 1 or 9999 (``0001-01-01T00:00:00+14:00``); here
that is a refusal with a reason like any other.
"""

from __future__ import annotations

from datetime import UTC, datetime


class TimeRefused(ValueError):
    """Text that is not a time this project can hold. The message says why, without the text
    (the caller names the field and quotes the value as far as it wants to)."""


class TimeOutsideCalendar(TimeRefused):
    """A real time whose UTC value falls before year 1 or after 9999."""


def parse_utc(text: object, *, assume_utc: bool = False) -> datetime:
    """``text`` (ISO 8601, ``Z`` or an offset) as an aware UTC datetime. A time without a zone
    is ambiguous and refused, unless ``assume_utc`` (a person's ``--since 2026-01-01``)."""
    if not isinstance(text, str) or not text.strip():
        raise TimeRefused("required: an ISO 8601 time with its zone")
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TimeRefused("is not an ISO 8601 time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        if not assume_utc:
            raise TimeRefused("has no time zone (add Z or +hh:mm)")
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise TimeOutsideCalendar("lies outside the calendar once in UTC") from None


def format_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, whole seconds (Amazon's query parameters and ``shipDate``);
    a naive datetime is refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
