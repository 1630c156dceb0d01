"""The Finances gateway against the sandbox over real HTTP: a refund made "in Seller Central"
comes back from ``listFinancialEventsByOrderId`` and from ``listFinancialEvents`` as the domain's
``AmazonRefund``, with positive amounts per component and Amazon's adjustment item id; the
shipment's own charges are not refunds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.refunds import Component
from domain.shared import Money
from infra.amazon.client import SpApiClient, build_client
from infra.amazon.gateways import SpApiFinances
from infra.amazon.sandbox.server import running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.settings import Region, load_settings
from tests.integration.infra.amazon.test_feeds_sandbox import ACCOUNT, CREDENTIALS, Sandbox

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox(rate_factor=0) as handle:
        control = Sandbox(handle.base_url)
        yield control
        control.control.close()


@pytest.fixture
def finances(sandbox: Sandbox) -> Iterator[SpApiFinances]:
    settings = load_settings(
        amazon_region=Region.SANDBOX,
        spapi_endpoint=sandbox.base_url,
        lwa_token_url=f"{sandbox.base_url}/auth/o2/token",
        sandbox_rate_factor=0,
    )
    client: SpApiClient = build_client(
        settings, f"{DEMO_SELLER.seller_id}:SANDBOX", CREDENTIALS, max_wait_s=2.0
    )
    yield SpApiFinances({ACCOUNT: client}.__getitem__)
    client.close()


def test_a_seller_central_refund_reads_back_as_an_amazon_refund(
    sandbox: Sandbox, finances: SpApiFinances
) -> None:
    order_id, item_id = sandbox.order("SHIPPED")
    response = sandbox.control.post(
        f"/orders/{order_id}/seller-central-refunds",
        json={
            "reason": "CustomerReturn",
            "items": [
                {"order_item_id": item_id, "components": [{"type": "Principal", "amount": "7.50"}]}
            ],
        },
    )
    assert response.status_code == 201, response.text
    # Finances lists what was posted at least two minutes ago.
    sandbox.control.post("/clock/advance", json={"seconds": 180}).raise_for_status()

    (refund,) = finances.refunds_of_order(ACCOUNT, order_id)
    assert refund.amazon_order_id == order_id
    (item,) = refund.items
    assert item.order_item_id == item_id and item.adjustment_item_id
    assert dict(item.amounts)[Component.ITEM_PRICE] == Money(Decimal("7.50"), "USD")

    before = refund.posted_at + timedelta(seconds=30)  # Amazon: at least 2 minutes ago
    posted = finances.refunds_posted(ACCOUNT, refund.posted_at - timedelta(days=1), before)
    assert [found.key for found in posted] == [refund.key]
