"""Control API, clock: read the sandbox's "Amazon time" and move it forward (timestamps, the
two-minute rule, token expiry, feed progression)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from infra.amazon.sandbox.state import SandboxState, iso


class ClockIn(BaseModel):
    seconds: float = Field(ge=0)


def router(state: SandboxState) -> APIRouter:
    routes = APIRouter()

    @routes.get("/clock")
    def clock() -> dict[str, Any]:
        return {"now": iso(state.now()), "offset_seconds": state.clock_offset.total_seconds()}

    @routes.post("/clock/advance")
    def advance(body: ClockIn) -> dict[str, Any]:
        state.advance_clock(body.seconds)
        return clock()

    return routes
