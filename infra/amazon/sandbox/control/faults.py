"""Control API, faults: queue errors, latency and lost connections for the next SP-API calls,
or clear them.

``POST /_sandbox/faults`` ``{"operation": "<model key>" | "*", "kind": ..., "count": 1,
"latency_ms": 0, "seller_id": null, "order_id": null}``; ``order_id``: only the calls whose path
names that order (``{"operation": "ordersV0.confirmShipment", "kind": "400", "order_id": ...}``
refuses that order's confirmations with ``InvalidInput``). A createFeed that is applied but whose
answer is lost: ``{"operation": "feeds.createFeed", "kind": "504_after_apply"}`` (the feed is
queued, the client gets a 504) or ``"kind": "lose_response"`` (the feed is queued, the connection
dies mid-answer).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from infra.amazon.models import operations
from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.state import FAULT_KINDS, Fault, SandboxState


class FaultIn(BaseModel):
    operation: str
    kind: Literal["400", "429", "500", "503", "latency", "drop", "lose_response", "504_after_apply"]
    count: int = Field(default=1, ge=1)
    latency_ms: int = Field(default=0, ge=0, le=120_000)
    seller_id: str | None = None
    order_id: str | None = None


def router(state: SandboxState) -> APIRouter:
    routes = APIRouter()

    @routes.post("/faults", status_code=201)
    def add_fault(body: FaultIn) -> dict[str, Any]:
        if body.operation != "*" and body.operation not in operations():
            raise SandboxError(f"unknown operation {body.operation!r} (use a model operation key)")
        assert body.kind in FAULT_KINDS
        state.add_fault(
            Fault(
                operation=body.operation,
                kind=body.kind,
                count=body.count,
                latency_ms=body.latency_ms,
                seller_id=body.seller_id,
                order_id=body.order_id,
            )
        )
        return {"queued": body.model_dump()}

    @routes.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        state.clear_faults()
        return {"cleared": True}

    return routes
