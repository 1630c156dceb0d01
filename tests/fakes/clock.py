"""The Clock port's fake: a time that moves only when a test moves it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass
class FixedClock:
    at: datetime = T0

    def now(self) -> datetime:
        return self.at
