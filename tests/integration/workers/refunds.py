"""What the refund tests share. For the doors (HTTP, queue, CLI): an order whose lines carry
what they charged (what a refund is checked against), request bodies, and the refund queue
drained; the container, the account and the recording sender are the fulfilment doors'
fixtures. For the runs against the sandbox (a real refund worker, the web process): Amazon's
control API (``Amazon``), the sync, the platform's POSTs, beat's work driven sooner (``drive``)
and what the store and its outbox hold afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import Engine, select

from domain.ingestion import SyncReport
from domain.orders import AmazonOrder, LineCharges
from infra.amazon.sandbox.server import SandboxHandle
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.tables import FeedSubmission, OrderItem, OutboxEvent
from infra.db.tables import Refund as RefundRow
from infra.db.tables import RefundLine as RefundLineRow
from infra.settings import Settings
from tests.integration.processes import wait_for
from tests.integration.workers.fulfilments import add_order
from tests.integration.workers.scenarios import TOKEN, fulfil_env, on_sandbox
from workers import bootstrap

# Item A x3 (MUG-RED) charged 29.97 + 4.99 shipping + 2.40 tax + 0.40 shipping tax;
# item B x1 (MUG-BLUE) charged 5.00 + 0.40 tax.
CHARGES_A = LineCharges(
    "USD",
    principal=Decimal("29.97"),
    shipping=Decimal("4.99"),
    tax=Decimal("2.40"),
    shipping_tax=Decimal("0.40"),
)
CHARGES_B = LineCharges("USD", principal=Decimal("5.00"), tax=Decimal("0.40"))


def add_charged_order(
    container: bootstrap.Container, account_id: int, n: int, **changes: Any
) -> AmazonOrder:
    """An unshipped merchant order whose items carry their charges, saved as a sync saves it."""
    from tests.integration.infra.db.seed import amazon_order

    base = amazon_order(n)
    lines = (
        replace(base.lines[0], charges=CHARGES_A),
        replace(base.lines[1], charges=CHARGES_B),
    )
    return add_order(container, account_id, n, lines=lines, **changes)


@pytest.fixture
def charged(container: bootstrap.Container, account_id: int) -> AmazonOrder:
    return add_charged_order(container, account_id, 1)


def refund_body(order: AmazonOrder, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": order.amazon_order_id,
        "platform_refund_id": "R-1",
        "reason": "customer_return",
        "lines": [
            {
                "order_item_id": order.lines[0].order_item_id,
                "amounts": {"item_price": "9.99", "tax": "0.80"},
            }
        ],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def cancellation_body(order: AmazonOrder, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": order.amazon_order_id,
        "platform_cancellation_id": "C-1",
        "reason": "buyer_canceled",
        "lines": [{"sku": "MUG-BLUE"}],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def drain_refunds(app: Any) -> list[tuple[dict[str, Any], Any]]:
    """Everything waiting on the refund queue: (headers, body), in the broker's order."""
    found = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(app.amqp.queues["refund"])
        try:
            while True:
                try:
                    message = queue.get(timeout=0.1)
                except queue.Empty:
                    break
                found.append((dict(message.headers), message.payload))
                message.ack()
        finally:
            queue.close()
    return found


# --- on the sandbox: the refund worker against Amazon's stand-in -----------------------------

US = "ATVPDKIKX0DER"
# createFeed allows one call every two minutes (burst 15), getFeedDocument one in 45 s and
# Finances one every two seconds: a hundred times that keeps every wait out of the tests.
SANDBOX_RATE_FACTOR = 100.0


def refund_env(child_env: dict[str, str], sandbox: SandboxHandle) -> dict[str, str]:
    """A refund worker's (and the web process's) environment against the sandbox; one web
    process, not two, starts in a fraction of the time."""
    return {**fulfil_env(child_env, sandbox, SANDBOX_RATE_FACTOR), "WEB_WORKERS": "1"}


@dataclass
class Amazon:
    """The sandbox's control API over HTTP: orders staged, refunds made in Seller Central, and
    what Amazon holds afterwards (adjustments, orders, feeds, calls)."""

    http: httpx.Client

    def _json(self, response: httpx.Response) -> Any:
        assert response.status_code in (200, 201), response.text
        return response.json()

    def now(self) -> datetime:
        return datetime.fromisoformat(self._json(self.http.get("/_sandbox/clock"))["now"])

    def advance(self, seconds: float) -> None:
        self._json(self.http.post("/_sandbox/clock/advance", json={"seconds": seconds}))

    def feeds_done_at_once(self) -> None:
        """Each new feed is processed on its first getFeed (no steps to poll through)."""
        self._json(self.http.post("/_sandbox/feed-settings", json={"processing_seconds": 0}))

    def order(
        self,
        *quantities: int,
        status: str = "UNSHIPPED",
        unit_price: str = "20.00",
        age: timedelta = timedelta(minutes=10),
        seller_id: str = DEMO_SELLER.seller_id,
    ) -> dict[str, Any]:
        """A merchant order of one line per quantity, created ``age`` ago in Amazon's time (a
        search sees it at once); the stored order, items with their ids."""
        items = [
            {"sku": f"SKU-{n}", "quantity": q, "unit_price": unit_price}
            for n, q in enumerate(quantities, start=1)
        ]
        created = self._json(
            self.http.post(
                "/_sandbox/orders",
                json={
                    "seller_id": seller_id,
                    "marketplace_id": US,
                    "fulfilled_by": "MERCHANT",
                    "status": status,
                    "items": items,
                    "created_time": (self.now() - age).isoformat(),
                },
            )
        )
        return self.stored(created["order_id"])

    def stored(self, order_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._json(self.http.get(f"/_sandbox/orders/{order_id}")))

    def ship(self, order_id: str) -> None:
        self._json(
            self.http.post(f"/_sandbox/orders/{order_id}/status", json={"status": "SHIPPED"})
        )

    def tax_not_refundable(self, order_id: str) -> None:
        path = f"/_sandbox/orders/{order_id}/tax-refundable"
        self._json(self.http.post(path, json={"refundable": False}))

    def refund_in_seller_central(
        self, order_id: str, item_id: str, components: dict[str, str]
    ) -> dict[str, Any]:
        body = {
            "reason": "CustomerReturn",
            "items": [
                {
                    "order_item_id": item_id,
                    "components": [{"type": t, "amount": a} for t, a in components.items()],
                }
            ],
        }
        path = f"/_sandbox/orders/{order_id}/seller-central-refunds"
        return cast(dict[str, Any], self._json(self.http.post(path, json=body)))

    def adjustments(self, order_id: str) -> list[dict[str, Any]]:
        found = self._json(self.http.get(f"/_sandbox/orders/{order_id}/adjustments"))
        return cast(list[dict[str, Any]], found["adjustments"])

    def add_seller(self, seller_id: str, refresh_token: str) -> None:
        """Another seller of the sandbox's demo app, in the US marketplace."""
        body = {
            "seller_id": seller_id,
            "refresh_token": refresh_token,
            "client_id": DEMO_SELLER.client_id,
            "client_secret": DEMO_SELLER.client_secret,
            "marketplace_ids": [US],
        }
        self._json(self.http.post("/_sandbox/sellers", json=body))

    def feeds(self, seller_id: str = DEMO_SELLER.seller_id) -> list[dict[str, Any]]:
        """The seller's feeds, newest first."""
        found = self._json(self.http.get("/_sandbox/feeds", params={"seller_id": seller_id}))
        return cast(list[dict[str, Any]], found["feeds"])

    def feed(self, feed_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._json(self.http.get(f"/_sandbox/feeds/{feed_id}")))

    def calls(self, operation: str) -> list[dict[str, Any]]:
        found = self._json(
            self.http.get("/_sandbox/calls", params={"operation": operation, "limit": 10_000})
        )
        return cast(list[dict[str, Any]], found["calls"])


def charged_in_store(engine: Engine, order_item_id: str) -> dict[str, Decimal]:
    """What the store synced as charged for one line, by the request's component names."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                OrderItem.charged_principal,
                OrderItem.charged_shipping,
                OrderItem.charged_tax,
                OrderItem.charged_shipping_tax,
            ).where(OrderItem.order_item_id == order_item_id)
        ).one()
    names = ("item_price", "shipping", "tax", "shipping_tax")
    return {name: Decimal(value or 0) for name, value in zip(names, row, strict=True)}


def sync_from_sandbox(
    settings: Settings,
    sandbox: SandboxHandle,
    account: str = "demo",
    start: datetime | None = None,
) -> SyncReport:
    """One sync of an account in this process, as the ingest worker runs it."""
    bootstrap.use(on_sandbox(settings, sandbox, SANDBOX_RATE_FACTOR))
    try:
        return bootstrap.sync_account(account, start=start)
    finally:
        bootstrap.reset_and_close()


def post(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """A POST of the platform's, under a key of its own."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": str(uuid.uuid4())}
    return http.post(path, json=body, headers=headers)


OPEN = ("built", "uploaded", "creating", "created")


def open_submissions(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        found = conn.execute(
            select(FeedSubmission.id).where(FeedSubmission.state.in_(OPEN))
        ).scalars()
        return [int(i) for i in found]


def drive(
    app: Any,
    engine: Engine,
    done: Callable[[], bool],
    timeout_s: float = 60.0,
    interval_s: float = 1.0,
) -> None:
    """Beat's work, sooner: every ``interval_s`` a ``refund.sweep`` (batch what is due), and a
    ``refund.advance`` of each open submission (what its countdown sends, without the wait
    between polls), until ``done()``."""

    def tick() -> bool:
        if done():
            return True
        app.send_task("refund.sweep")
        for submission_id in open_submissions(engine):
            app.send_task("refund.advance", args=[submission_id])
        return False

    wait_for(tick, timeout_s, interval_s)


def refund_rows(engine: Engine) -> dict[str | None, Any]:
    """Every refund and cancellation by its platform id (None: one found on Amazon)."""
    with engine.connect() as conn:
        rows = conn.execute(select(RefundRow).order_by(RefundRow.id)).all()
    return {row.platform_id: row for row in rows}


def refund_rows_from_amazon(engine: Engine) -> list[Any]:
    """The refunds found on Amazon (source ``amazon``), oldest first."""
    with engine.connect() as conn:
        query = select(RefundRow).where(RefundRow.source == "amazon").order_by(RefundRow.id)
        return list(conn.execute(query).all())


def settled(engine: Engine, platform_ids: Collection[str]) -> bool:
    rows = refund_rows(engine)
    return all(p in rows and rows[p].state in ("confirmed", "failed") for p in platform_ids)


def line_ids(engine: Engine, refund_id: int) -> list[int]:
    with engine.connect() as conn:
        found = conn.execute(
            select(RefundLineRow.id)
            .where(RefundLineRow.refund_id == refund_id)
            .order_by(RefundLineRow.id)
        ).scalars()
        return [int(i) for i in found]


def events(engine: Engine, topic: str) -> list[dict[str, Any]]:
    """The outbox's payloads of one topic, oldest first."""
    with engine.connect() as conn:
        found = conn.execute(
            select(OutboxEvent.payload).where(OutboxEvent.topic == topic).order_by(OutboxEvent.id)
        ).scalars()
        return [cast(dict[str, Any], p) for p in found]
