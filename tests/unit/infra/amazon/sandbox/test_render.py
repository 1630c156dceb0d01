"""Drawing an order as Amazon's JSON: the money adds up, a pending order shows no prices."""

from __future__ import annotations

import pytest

from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, create_order
from infra.amazon.sandbox.render import order_2026, order_items_v0, order_v0
from infra.amazon.sandbox.state import SandboxState


def test_money_adds_up_and_pending_orders_show_no_prices() -> None:
    state = SandboxState(seed=3)
    order = create_order(
        state,
        OrderSpec(items=[ItemSpec(sku="A", quantity=3, unit_price=None)], item_count=1),
    )
    everything = frozenset({"PROCEEDS"})

    drawn = order_2026(order, everything)
    items_total = sum(float(i["proceeds"]["proceedsTotal"]["amount"]) for i in drawn["orderItems"])
    v0 = order_v0(order)
    state.set_status(order.order_id, "PENDING")

    assert float(drawn["proceeds"]["grandTotal"]["amount"]) == pytest.approx(items_total)
    assert v0["OrderTotal"]["Amount"] == drawn["proceeds"]["grandTotal"]["amount"]
    assert "proceeds" not in order_2026(order, everything)
    assert "OrderTotal" not in order_v0(order)
    assert "ItemPrice" not in order_items_v0(order)[0]
