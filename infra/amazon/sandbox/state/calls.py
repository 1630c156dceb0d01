"""The log of SP-API calls the sandbox received, for tests that count what a client sent."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

CALL_LOG_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class CallRecord:
    time: str
    request_id: str
    operation: str
    seller_id: str | None
    status: int
    fault: str | None


class CallLog:
    """The last ``CALL_LOG_SIZE`` calls, oldest first."""

    def __init__(self) -> None:
        self.calls: deque[CallRecord] = deque(maxlen=CALL_LOG_SIZE)

    def record(self, call: CallRecord) -> None:
        self.calls.append(call)

    def select(self, operation: str | None, limit: int) -> list[CallRecord]:
        calls = [c for c in self.calls if not operation or c.operation == operation]
        return calls[-limit:] if limit > 0 else []

    def clear(self) -> None:
        self.calls.clear()

    def __len__(self) -> int:
        return len(self.calls)
