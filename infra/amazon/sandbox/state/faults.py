"""Faults a test queues for the next SP-API calls: errors, latency and lost connections.

Kinds: ``400`` (``InvalidInput``), ``429``, ``500``, ``503`` answer without applying the request;
``latency`` delays it; ``drop`` loses the connection without applying; two apply the request and
then lose its answer, so a client cannot tell whether it took effect: ``lose_response`` (the
connection dies halfway through the answer) and ``504_after_apply`` (a 504 Gateway Timeout instead
of the answer). What each kind does to a call is the app's business (``app``); here they wait their
turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.amazon.sandbox.errors import SandboxError

FAULT_KINDS = ("400", "429", "500", "503", "latency", "drop", "lose_response", "504_after_apply")


@dataclass(slots=True)
class Fault:
    """``count`` next calls of ``operation`` ("*" = any) by ``seller_id`` (None = any) for
    ``order_id`` (the path's ``orderId``; None = any) go wrong."""

    operation: str
    kind: str
    count: int
    latency_ms: int = 0
    seller_id: str | None = None
    order_id: str | None = None

    def matches(self, operation: str, seller_id: str | None, order_id: str | None = None) -> bool:
        return (
            self.operation in ("*", operation)
            and (self.seller_id is None or self.seller_id == seller_id)
            and (self.order_id is None or self.order_id == order_id)
        )


class FaultQueue:
    """Queued faults, first queued first taken."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise SandboxError(f"unknown fault kind {fault.kind!r}; one of {FAULT_KINDS}")
        if fault.count < 1:
            raise SandboxError("count must be at least 1")
        self.faults.append(fault)

    def take(
        self, operation: str, seller_id: str | None, order_id: str | None = None
    ) -> Fault | None:
        """The first queued fault for this call, with one of its uses spent."""
        for fault in self.faults:
            if fault.matches(operation, seller_id, order_id):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()
