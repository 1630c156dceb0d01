"""A fulfilment taken in through the door and confirmed on the sandbox over HTTP: once, with
the store's ship date, even when every answer of the first try is lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select

from domain.ingestion import Cursor
from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.settings import Settings
from tests.integration.workers.fulfilments import RecordingSender
from workers import bootstrap
from workers.doors import fulfilments as producer

pytestmark = pytest.mark.integration

SANDBOX_SERVES_CONFIRM = pytest.mark.skipif(
    "ordersV0.confirmShipment" not in SERVED_OPERATIONS,
    reason="the sandbox does not serve confirmShipment yet",
)


@pytest.fixture
def on_sandbox(settings: Settings, clean_db: Engine) -> Iterator[Any]:
    """A worker's container (it never waits long for Amazon) pointed at a running sandbox, with
    its demo seller as account 'acme'."""
    import httpx

    from infra.amazon.sandbox.server import running_sandbox
    from infra.settings import Region

    with running_sandbox(rate_factor=200) as handle:
        container = bootstrap.use(
            settings.model_copy(
                update={
                    "amazon_region": Region.SANDBOX,
                    "spapi_endpoint": handle.base_url,
                    "lwa_token_url": f"{handle.base_url}/auth/o2/token",
                    "lwa_client_id": "amzn1.application-oa2-client.sandbox",
                    "lwa_client_secret": SecretStr("sandbox-secret"),
                }
            ),
            patient=False,
        )
        from infra.db.accounts import add_account

        add_account(
            container.sessions,
            name="acme",
            selling_partner_id="SANDBOX-DEMO",
            region="SANDBOX",
            marketplace_ids=["ATVPDKIKX0DER"],
            refresh_token="Atzr|sandbox-demo-seller",
            client_id="amzn1.application-oa2-client.sandbox",
        )
        control = httpx.Client(base_url=handle.base_url, timeout=30)
        try:
            yield container, control
        finally:
            control.close()
            bootstrap.reset_and_close()


@SANDBOX_SERVES_CONFIRM
def test_a_fulfilment_is_confirmed_on_the_sandbox_once_with_the_stores_ship_date(
    on_sandbox: Any,
) -> None:
    from infra.amazon.translate import to_domain
    from infra.db.accounts import get_account
    from workers.base import TransientError
    from workers.tasks import fulfil as tasks_fulfil

    container, control = on_sandbox
    created = control.post(
        "/_sandbox/orders/bulk",
        json={"count": 1, "fulfilled_by": "MERCHANT", "status": "UNSHIPPED"},
    )
    created.raise_for_status()
    (order_id,) = created.json()["order_ids"]
    account = get_account(container.sessions, "acme")
    client = container.amazon_client(account)
    raw = client.get_order(order_id, ("FULFILLMENT", "PACKAGES", "CANCELLATION"))
    order = to_domain(raw.model_dump(mode="json", by_alias=True, exclude_none=True))
    container.ingestion_store.save_page(account.id, "orders", [order], [], Cursor())
    shipped_at = max(order.purchased_at, datetime.now(UTC) - timedelta(hours=1)).replace(
        microsecond=0
    )
    request = {
        "account": "acme",
        "amazon_order_id": order_id,
        "platform_fulfilment_id": "F-sandbox",
        "shipped_at": shipped_at.isoformat(),
        "carrier_code": "UPS",
        "tracking_number": "1Z999AA10123456784",
    }
    result = producer.submit_fulfilment(request, app=RecordingSender())
    fulfilment_id = result.fulfilment.id  # type: ignore[union-attr]

    # The answer is lost after the sandbox applied the call: a worker's client raises at once
    # (it never sleeps between attempts) and the task is retried later.
    control.post(
        "/_sandbox/faults",
        json={"operation": "ordersV0.confirmShipment", "kind": "lose_response", "count": 6},
    ).raise_for_status()
    with pytest.raises(TransientError):  # called directly, the base class's retry raises
        tasks_fulfil.confirm(fulfilment_id)
    control.delete("/_sandbox/faults").raise_for_status()
    assert tasks_fulfil.confirm(fulfilment_id)["outcome"] == "confirmed"
    assert tasks_fulfil.confirm(fulfilment_id)["outcome"] == "skipped"

    packages = client.get_order(order_id, ("PACKAGES",)).packages
    assert [p.package_reference_id for p in packages] == [str(fulfilment_id)]
    assert packages[0].ship_time == shipped_at
    stored = producer.fulfilment_store().get(fulfilment_id)
    assert stored is not None and stored.state.value == "confirmed"
    with container.engine.connect() as conn:
        row = conn.execute(select(FulfilmentRow)).one()
    assert row.amazon_order_status == "SHIPPED"
