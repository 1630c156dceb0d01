"""Amazon's time in the sandbox: real UTC plus an offset tests move forward, and its timestamps.

``now()`` is real UTC time plus an offset that ``advance`` moves, so a test can make a fresh
change pass Amazon's "two minutes before now" rule without waiting. Order timestamps are whole
seconds, the precision Amazon shows, so a window boundary the client reads is exactly the one
the sandbox applied. Token buckets use the monotonic clock and ignore the offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infra.amazon.sandbox.errors import SandboxError

# Amazon only answers for windows that end at least this long before its "now".
VISIBILITY_LAG = timedelta(minutes=2)


class SandboxClock:
    """Real UTC plus an offset that only moves forward (until ``reset``)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise SandboxError("the sandbox clock only moves forward")
        self._offset += timedelta(seconds=seconds)
        return self.now()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def reset(self, offset: timedelta = timedelta(0)) -> None:
        """Back to real time, or (a saved state loaded) to the offset it had reached."""
        self._offset = offset


def whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """Amazon's timestamp form: UTC, whole seconds, ``Z``."""
    # The first 19 characters of isoformat are strftime's "%Y-%m-%dT%H:%M:%S" (for any year
    # from 1000), at a third of the cost; an order's JSON holds a dozen of these.
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:19] + "Z"


def parse_iso(value: str) -> datetime:
    """An ISO 8601 time as Amazon accepts it; a time without a zone is taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
