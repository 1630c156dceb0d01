"""What the sandbox's HTTP tests share: LWA tokens, orders staged through the control API,
searches, and moving the sandbox clock.
"""

from __future__ import annotations

from typing import Any

import httpx

from infra.amazon.sandbox.server import SandboxHandle
from infra.amazon.sandbox.state import DEMO_SELLER

SEARCH = "/orders/2026-01-01/orders"
Sandbox = tuple[SandboxHandle, httpx.Client]
EPOCH = "2020-01-01T00:00:00Z"
OTHER: dict[str, Any] = {
    "seller_id": "A2OTHERSELLER",
    "refresh_token": "Atzr|other",
    "client_id": "amzn1.application-oa2-client.other",
    "client_secret": "other-secret",
    "marketplace_ids": ["A1PA6795UKMFR9"],
}


def token_for(client: httpx.Client, refresh_token: str, client_id: str, secret: str) -> str:
    response = client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": secret,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def demo_headers(client: httpx.Client) -> dict[str, str]:
    token = token_for(
        client, DEMO_SELLER.refresh_token, DEMO_SELLER.client_id, DEMO_SELLER.client_secret
    )
    return {"x-amz-access-token": token}


def other_headers(client: httpx.Client) -> dict[str, str]:
    """A token for the second seller (``OTHER``), which the test must have added."""
    token = token_for(client, OTHER["refresh_token"], OTHER["client_id"], OTHER["client_secret"])
    return {"x-amz-access-token": token}


def create(client: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = client.post("/_sandbox/orders", json=spec)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def search(client: httpx.Client, headers: dict[str, str], **params: Any) -> httpx.Response:
    return client.get(SEARCH, params=params, headers=headers)


def search_ids(client: httpx.Client, headers: dict[str, str], **params: Any) -> list[str]:
    response = search(client, headers, **params)
    assert response.status_code == 200, response.text
    return [o["orderId"] for o in response.json()["orders"]]


def advance(client: httpx.Client, seconds: float) -> None:
    assert client.post("/_sandbox/clock/advance", json={"seconds": seconds}).status_code == 200
