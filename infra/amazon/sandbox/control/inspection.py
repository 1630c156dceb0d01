"""Control API, inspection: counts of what the sandbox holds, the log of SP-API calls, and a
reset to a fresh state with only the demo seller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from infra.amazon.sandbox.state import SandboxState


def router(state: SandboxState) -> APIRouter:
    routes = APIRouter()

    @routes.get("/state")
    def summary() -> dict[str, Any]:
        return state.summary()

    @routes.get("/calls")
    def calls(operation: str | None = None, limit: int = 100) -> dict[str, Any]:
        return {
            "calls": [
                {
                    "time": c.time,
                    "request_id": c.request_id,
                    "operation": c.operation,
                    "seller_id": c.seller_id,
                    "status": c.status,
                    "fault": c.fault,
                }
                for c in state.call_log(operation, limit)
            ]
        }

    @routes.delete("/calls")
    def clear_calls() -> dict[str, Any]:
        state.clear_calls()
        return {"cleared": True}

    @routes.post("/reset")
    def reset() -> dict[str, Any]:
        state.reset()
        return {"reset": True}

    return routes
