"""How an order record changes: raw patches, and staged statuses with their quantities."""

from __future__ import annotations

from datetime import timedelta

from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, create_order
from infra.amazon.sandbox.state import SandboxState, deep_merge


def test_deep_merge_merges_objects_replaces_values_and_deletes_on_none() -> None:
    base = {"a": {"b": 1, "c": 2}, "d": [1], "e": "x"}

    merged = deep_merge(base, {"a": {"b": 9}, "d": [2], "e": None})
    kept = deep_merge(base, {"e": None}, keep_none=True)

    assert merged == {"a": {"b": 9, "c": 2}, "d": [2]}
    assert kept["e"] is None


def test_status_changes_move_quantities_packages_and_the_update_time() -> None:
    state = SandboxState(seed=1)
    order = create_order(
        state,
        OrderSpec(
            status="PENDING",
            items=[ItemSpec(sku="A", quantity=2), ItemSpec(sku="B", quantity=1)],
            created_time=state.now() - timedelta(hours=1),
        ),
    )
    created = order.updated_at

    state.set_status(order.order_id, "PARTIALLY_SHIPPED")
    partial = [(i.quantity_shipped, i.quantity) for i in order.items]
    packages = list(order.packages)
    state.set_status(order.order_id, "SHIPPED")

    assert partial == [(2, 2), (0, 1)]
    assert packages[0].items == [(order.items[0].order_item_id, 2)]
    assert all(i.quantity_shipped == i.quantity for i in order.items)
    assert order.updated_at > created


def test_a_single_unit_order_grows_to_ship_partially() -> None:
    state = SandboxState(seed=2)
    order = create_order(
        state, OrderSpec(status="PARTIALLY_SHIPPED", items=[ItemSpec(sku="A", quantity=1)])
    )

    assert (order.items[0].quantity, order.items[0].quantity_shipped) == (2, 1)
