"""Amazon's usage plans: a burst beyond the bucket gets a conforming 429; rate factor 0 lifts it."""

from __future__ import annotations

import httpx
import pytest

from infra.amazon.models import operations
from infra.amazon.sandbox.server import running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from tests.integration.infra.amazon.sandbox.conformance.cases import UNKNOWN_ORDER
from tests.integration.infra.amazon.sandbox.conformance.schemas import assert_conforms
from tests.integration.infra.amazon.sandbox.conformance.world import EPOCH

pytestmark = pytest.mark.integration


def _token(client: httpx.Client) -> dict[str, str]:
    response = client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": DEMO_SELLER.refresh_token,
            "client_id": DEMO_SELLER.client_id,
            "client_secret": DEMO_SELLER.client_secret,
        },
    )
    return {"x-amz-access-token": response.json()["access_token"]}


def test_a_burst_beyond_the_bucket_gets_quota_exceeded() -> None:
    burst = operations()["orders2026.searchOrders"].usage_plan
    assert burst is not None
    with running_sandbox() as handle, httpx.Client(base_url=handle.base_url) as client:
        headers = _token(client)
        params = {"lastUpdatedAfter": EPOCH}
        statuses = [
            client.get("/orders/2026-01-01/orders", params=params, headers=headers).status_code
            for _ in range(burst.burst)
        ]
        throttled = client.get("/orders/2026-01-01/orders", params=params, headers=headers)
        other_operation = client.get(f"/orders/2026-01-01/orders/{UNKNOWN_ORDER}", headers=headers)

    assert statuses == [200] * burst.burst
    assert throttled.status_code == 429
    assert throttled.json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    assert throttled.headers["x-amzn-RequestId"]
    assert "x-amzn-RateLimit-Limit" not in throttled.headers
    assert_conforms("orders2026.searchOrders", 429, throttled.json())
    assert other_operation.status_code == 404  # each operation has a bucket of its own


def test_rate_factor_zero_lifts_the_limits() -> None:
    with running_sandbox(rate_factor=0) as handle, httpx.Client(base_url=handle.base_url) as client:
        headers = _token(client)
        statuses = {
            client.get(
                "/orders/2026-01-01/orders", params={"createdAfter": EPOCH}, headers=headers
            ).status_code
            for _ in range(60)
        }

    assert statuses == {200}
