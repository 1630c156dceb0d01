"""What the tests of the refund doors share (HTTP, queue, CLI): an order whose lines carry what
they charged (what a refund is checked against), request bodies, and the refund queue drained.
The container, the account and the recording sender are the fulfilment doors' fixtures."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from domain.orders import AmazonOrder, LineCharges
from tests.integration.workers.fulfilments import add_order
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
