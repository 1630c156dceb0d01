"""A grantless token (``client_credentials`` with the notifications scope) from the sandbox's
Login with Amazon: it opens the destinations, is cached under its own key, and is refused for a
seller's operations."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from infra.amazon.lwa import LwaCredentials, LwaTokenProvider, grantless_credentials
from infra.amazon.sandbox.server import running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER

pytestmark = pytest.mark.integration


def test_a_grantless_token_opens_the_destinations_and_is_cached_apart() -> None:
    app = grantless_credentials(DEMO_SELLER.client_id, SecretStr(DEMO_SELLER.client_secret))
    seller = LwaCredentials(
        client_id=DEMO_SELLER.client_id,
        client_secret=SecretStr(DEMO_SELLER.client_secret),
        refresh_token=SecretStr(DEMO_SELLER.refresh_token),
    )
    with running_sandbox(rate_factor=0) as handle, httpx.Client(base_url=handle.base_url) as http:
        tokens = LwaTokenProvider(f"{handle.base_url}/auth/o2/token", app, http)
        token = tokens.access_token()
        again = tokens.access_token()
        destinations = http.get(
            "/notifications/v1/destinations", headers={"x-amz-access-token": token}
        )
        orders = http.get(
            "/orders/2026-01-01/orders",
            params={"createdAfter": "2020-01-01T00:00:00Z"},
            headers={"x-amz-access-token": token},
        )

    assert again == token  # cached: one token request
    assert destinations.status_code == 200
    assert destinations.json() == {"payload": []}
    assert orders.status_code == 403
    assert app.cache_id() != seller.cache_id()
    assert "sandbox-secret" not in repr(app)
