"""Control API, sellers: ``POST /_sandbox/sellers`` adds a seller reachable with its LWA
credentials (the demo seller always exists)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from infra.amazon.sandbox.state import SandboxState, SellerAccount


class SellerIn(BaseModel):
    seller_id: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    marketplace_ids: list[str] = Field(min_length=1)


def router(state: SandboxState) -> APIRouter:
    routes = APIRouter()

    @routes.post("/sellers", status_code=201)
    def add_seller(body: SellerIn) -> dict[str, Any]:
        state.add_seller(
            SellerAccount(
                seller_id=body.seller_id,
                refresh_token=body.refresh_token,
                client_id=body.client_id,
                client_secret=body.client_secret,
                marketplace_ids=tuple(body.marketplace_ids),
            )
        )
        return {"seller_id": body.seller_id}

    return routes
