"""Drawing an order as Amazon's JSON: the money adds up, a pending order shows no prices, an
item's tax tells its item tax from its shipping tax."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, create_order
from infra.amazon.sandbox.render import order_2026, order_items_v0, order_v0, shipping_tax
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


def test_item_tax_is_broken_down_into_item_and_shipping_tax() -> None:
    state = SandboxState(seed=4)
    order = create_order(
        state, OrderSpec(items=[ItemSpec(sku="A", quantity=2, unit_price=Decimal("10.00"))])
    )

    item = order_2026(order, frozenset({"PROCEEDS"}))["orderItems"][0]
    (tax,) = [b for b in item["proceeds"]["breakdowns"] if b["type"] == "TAX"]
    parts = {d["subtype"]: Decimal(d["value"]["amount"]) for d in tax["detailedBreakdowns"]}
    v0 = order_items_v0(order)[0]

    assert set(parts) == {"ITEM", "SHIPPING"}
    assert parts["ITEM"] + parts["SHIPPING"] == Decimal(tax["subtotal"]["amount"])
    assert parts["SHIPPING"] == shipping_tax(order.items[0], order.currency) > 0
    assert parts["ITEM"] == Decimal(v0["ItemTax"]["Amount"])
    assert parts["SHIPPING"] == Decimal(v0["ShippingTax"]["Amount"])
