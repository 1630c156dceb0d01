"""What the worker tests and the fault runs (``tests/faults``) share: the project's Celery app on
the session's broker, the environment of a worker against a sandbox, orders staged on Amazon,
the web process, and the checks that the store matches what Amazon holds."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.tables import Fulfilment, Order, OrderItem, SyncCursor
from infra.settings import Region, Settings
from tests.integration.processes import wait_for
from workers import bootstrap
from workers.app import app

SEARCH_ORDERS = "orders2026.searchOrders"
CONFIRM_SHIPMENT = "ordersV0.confirmShipment"
TOKEN = "test-token"


@contextlib.contextmanager
def project_app(broker_url: str) -> Iterator[Any]:
    """The project's Celery app on this session's broker (its pool rebuilt for it), emptied of
    anything an earlier test's killed worker left behind; on the broker it had before, after."""
    before = app.conf.broker_url
    use_broker(app, broker_url)
    try:
        app.control.purge()
        yield app
    finally:
        use_broker(app, before)


def use_broker(celery_app: Any, broker_url: str) -> None:
    """``celery_app`` publishing to ``broker_url`` from now on. Celery's ``close()`` drops the
    producer pool only when the app's connection pool was built: an app that only published
    kept producers on the broker it had before (a fault run's Redis, gone once the run ended),
    and the next test's first publish failed on that dead port."""
    celery_app.close()
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = broker_url


def worker_env(
    child_env: dict[str, str], sandbox: SandboxHandle, rate_factor: float
) -> dict[str, str]:
    """A worker's environment against the sandbox at ``rate_factor``."""
    return {
        **child_env,
        "AMAZON_REGION": Region.SANDBOX.value,
        "SPAPI_ENDPOINT": sandbox.base_url,
        "SANDBOX_RATE_FACTOR": str(rate_factor),
        "LOG_LEVEL": "INFO",
    }


def on_sandbox(settings: Settings, sandbox: SandboxHandle, rate_factor: float) -> Settings:
    """This process's settings against the sandbox, as ``worker_env`` gives a worker."""
    return settings.model_copy(
        update={
            "amazon_region": Region.SANDBOX,
            "spapi_endpoint": sandbox.base_url,
            "sandbox_rate_factor": rate_factor,
        }
    )


# --- ingestion ---------------------------------------------------------------------------------


def stage(sandbox: SandboxHandle, count: int, seed: int) -> list[str]:
    """``count`` orders of every kind on Amazon, visible to searches."""
    ids = create_bulk(
        sandbox.state,
        count,
        seller_id=DEMO_SELLER.seller_id,
        marketplace_id=None,
        fulfilled_by=None,
        status=None,
        items_per_order=None,
        spread_seconds=60,
        seed=seed,
    )
    sandbox.state.advance_clock(180)  # past Amazon's two-minute visibility rule
    return ids


def last_success(engine: Engine, account_id: int) -> object:
    with engine.connect() as conn:
        return conn.execute(
            select(SyncCursor.last_success_at).where(
                SyncCursor.account_id == account_id, SyncCursor.scope == "orders"
            )
        ).scalar()


def sync_and_wait(engine: Engine, account_id: int, timeout_s: float = 120) -> None:
    before = last_success(engine, account_id)
    app.send_task("ingest.sync_account", args=[account_id])
    wait_for(lambda: last_success(engine, account_id) not in (None, before), timeout_s)


def pages(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(SyncCursor.pages_done))).scalar() or 0)


def assert_store_matches_amazon(engine: Engine, sandbox: SandboxHandle, account_id: int) -> None:
    amazon = {o.order_id: o for o in sandbox.state.orders_of(DEMO_SELLER.seller_id)}
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Order.id, Order.amazon_order_id, Order.status, Order.buyer_cancel_requested
            ).where(Order.account_id == account_id)
        ).all()
        items = conn.execute(
            select(Order.amazon_order_id, OrderItem.order_item_id, OrderItem.quantity_ordered).join(
                Order, Order.id == OrderItem.order_id
            )
        ).all()
    stored = {r.amazon_order_id: r for r in rows}
    assert len(rows) == len(stored) == len(amazon), "each order exactly once"
    for order_id, order in amazon.items():
        assert stored[order_id].status == order.status, order_id
        assert stored[order_id].buyer_cancel_requested == any(i.cancel_reason for i in order.items)
    expected_items = {
        (o.order_id, i.order_item_id, i.quantity) for o in amazon.values() for i in o.items
    }
    assert set(items) == expected_items and len(items) == len(expected_items)


# --- fulfilments -------------------------------------------------------------------------------


def fulfil_env(
    child_env: dict[str, str], sandbox: SandboxHandle, rate_factor: float
) -> dict[str, str]:
    return {
        **worker_env(child_env, sandbox, rate_factor),
        "API_TOKENS": TOKEN,
        # A killed worker's message comes back in seconds (tasks here last milliseconds).
        "BROKER_VISIBILITY_TIMEOUT": "10",
    }


def synced_merchant_orders(
    sandbox: SandboxHandle, settings: Settings, count: int
) -> list[tuple[str, str, int]]:
    """``count`` unshipped one-line merchant orders, synced into the store (the demo account
    must exist): (order id, order item id, quantity)."""
    ids = create_bulk(
        sandbox.state,
        count,
        seller_id=DEMO_SELLER.seller_id,
        marketplace_id="ATVPDKIKX0DER",
        fulfilled_by="MERCHANT",
        status="UNSHIPPED",
        items_per_order=1,
        spread_seconds=3600,
        seed=21,
    )
    sandbox.state.advance_clock(180)
    bootstrap.use(settings)
    try:
        report = bootstrap.sync_account("demo")
    finally:
        bootstrap.reset_and_close()
    assert report.created == count
    items = [sandbox.state.order(o).items[0] for o in ids]
    return [(o, i.order_item_id, i.quantity) for o, i in zip(ids, items, strict=True)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def web_process(env: dict[str, str], tmp_path: Path, log_level: str = "WARNING") -> Iterator[str]:
    """The web process (``amazon-channel web``) on a free port, its lines in ``web.log``;
    yields its base URL."""
    port = _free_port()
    with (tmp_path / "web.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "web"],
            env={**env, "WEB_PORT": str(port), "LOG_LEVEL": log_level},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), 60)  # a loaded 2-core machine starts it slowly
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:  # never left running for the next test to trip on
                process.kill()
                process.wait(timeout=10)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def fulfilment_body(
    platform_id: str, order: tuple[str, str, int], shipped_at: datetime
) -> dict[str, Any]:
    """The whole of a one-line order, shipped by UPS with a tracking number of its own."""
    order_id, item_id, quantity = order
    return {
        "account": "demo",
        "amazon_order_id": order_id,
        "platform_fulfilment_id": platform_id,
        "shipped_at": shipped_at.isoformat(),
        "carrier_code": "UPS",
        "shipping_method": "Ground",
        "tracking_number": "1Z" + platform_id.replace("-", "").rjust(16, "0"),
        "lines": [{"order_item_id": item_id, "quantity": quantity}],
    }


def confirmed(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(Fulfilment).where(Fulfilment.state == "confirmed")
            ).scalar_one()
        )


def shipped_at_now() -> datetime:
    """A ship date the sandbox accepts: half a minute ago, to the second."""
    return (datetime.now(UTC) - timedelta(seconds=30)).replace(microsecond=0)
