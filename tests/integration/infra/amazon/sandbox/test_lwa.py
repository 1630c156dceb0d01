"""Login with Amazon over HTTP: tokens for the right credentials, OAuth errors for the wrong,
and access tokens that stop working after an hour of sandbox time.
"""

from __future__ import annotations

import pytest

from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.infra.amazon.sandbox.api import (
    EPOCH,
    Sandbox,
    advance,
    demo_headers,
    search,
)

pytestmark = pytest.mark.integration


def test_lwa_trades_the_demo_refresh_token_for_an_hour_long_access_token(sandbox: Sandbox) -> None:
    _, client = sandbox
    response = client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": DEMO_SELLER.refresh_token,
            "client_id": DEMO_SELLER.client_id,
            "client_secret": DEMO_SELLER.client_secret,
        },
    )

    body = response.json()
    assert response.status_code == 200
    assert body["access_token"].startswith("Atza|")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] == DEMO_SELLER.refresh_token


@pytest.mark.parametrize(
    ("refresh_token", "secret", "status", "error"),
    [
        ("Atzr|unknown", DEMO_SELLER.client_secret, 400, "invalid_grant"),
        (DEMO_SELLER.refresh_token, "wrong", 401, "invalid_client"),
    ],
)
def test_lwa_refuses_bad_credentials_with_oauth_errors(
    sandbox: Sandbox, refresh_token: str, secret: str, status: int, error: str
) -> None:
    _, client = sandbox
    response = client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": DEMO_SELLER.client_id,
            "client_secret": secret,
        },
    )

    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_an_access_token_stops_working_after_an_hour_of_sandbox_time(sandbox: Sandbox) -> None:
    _, client = sandbox
    headers = demo_headers(client)
    assert search(client, headers, createdAfter=EPOCH).status_code == 200

    advance(client, 3601)
    response = search(client, headers, createdAfter=EPOCH)

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Unauthorized"


def test_a_call_without_a_token_is_forbidden(sandbox: Sandbox) -> None:
    _, client = sandbox
    response = search(client, {}, createdAfter=EPOCH)

    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {
                "code": "Unauthorized",
                "message": "Access to the resource is forbidden",
                "details": "",
            }
        ]
    }
