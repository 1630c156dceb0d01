"""What the transport tells its observers about each attempt of an SP-API call.

An observer is any callable taking a ``CallAttempt`` (the store's record of calls per order,
``infra.db.calls``, is one; the composition root attaches it). Observers run after the attempt,
outside the request: one that raises is logged and forgotten for that attempt, never the call's
failure, so a record that cannot be written never costs a confirmation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CallAttempt:
    """One HTTP attempt: ``status`` None when no answer came (the transport error is
    ``error``); ``error_code`` and ``error`` are Amazon's first error code and message."""

    operation: str
    method: str
    order_ids: tuple[str, ...]  # the Amazon orders the request names (its ``orderId``)
    attempt: int
    started_at: datetime
    elapsed_ms: float
    status: int | None
    request_id: str | None
    error_code: str | None = None
    error: str | None = None


CallObserver = Callable[[CallAttempt], None]


def notify(observers: Sequence[CallObserver], attempt: CallAttempt) -> None:
    """Hand ``attempt`` to every observer; a failing observer is logged, never raised."""
    for observer in observers:
        try:
            observer(attempt)
        except Exception as exc:  # noqa: BLE001 (an observer never fails the call)
            log.warning(
                "spapi call observer failed",
                extra={"operation": attempt.operation, "error": f"{type(exc).__name__}: {exc}"},
            )
