"""The sandbox's state without HTTP: buckets, tokens, the clock, status changes, rendering."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.amazon.models import usage_plan
from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, create_order
from infra.amazon.sandbox.render import order_2026, order_items_v0, order_v0
from infra.amazon.sandbox.state import (
    DEMO_SELLER,
    LwaError,
    SandboxError,
    SandboxState,
    TokenBucket,
    deep_merge,
)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket(rate=0.5, burst=3, now=0.0)

    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(1.0) is False  # half a token
    assert bucket.take(2.0) is True
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # capped at burst


def test_rate_factor_speeds_up_the_refill_but_keeps_the_burst() -> None:
    clock = FakeMonotonic()
    state = SandboxState(rate_factor=10, monotonic=clock)
    plan = usage_plan("orders2026.searchOrders")
    op = "orders2026.searchOrders"

    burst = [state.take_token("S", op) for _ in range(plan.burst + 1)]
    clock.now += 1 / (plan.rate * 10)
    refilled = state.take_token("S", op)

    assert burst == [True] * plan.burst + [False]
    assert refilled is True
    assert state.take_token("OTHER", op) is True  # buckets are per seller
    assert state.rate_limit_header(op) == f"{plan.rate:g}"


def test_rate_factor_zero_never_throttles() -> None:
    state = SandboxState(rate_factor=0)

    assert all(state.take_token("S", "orders2026.searchOrders") for _ in range(500))


def test_access_tokens_belong_to_a_seller_and_expire_on_the_sandbox_clock() -> None:
    state = SandboxState()
    token, lifetime = state.issue_access_token(
        DEMO_SELLER.refresh_token, DEMO_SELLER.client_id, DEMO_SELLER.client_secret
    )

    assert state.seller_for_access_token(token) == DEMO_SELLER.seller_id
    state.advance_clock(lifetime - 1)
    assert state.seller_for_access_token(token) == DEMO_SELLER.seller_id
    state.advance_clock(1)
    assert state.seller_for_access_token(token) is None
    with pytest.raises(LwaError) as refused:
        state.issue_access_token(DEMO_SELLER.refresh_token, DEMO_SELLER.client_id, "nope")
    assert refused.value.error == "invalid_client"


def test_pagination_tokens_are_signed_and_expire_after_a_day() -> None:
    state = SandboxState()
    token = state.make_pagination_token({"q": {"by": "updated"}, "pos": ["x", "y"]})

    assert state.read_pagination_token(token)["pos"] == ["x", "y"]
    with pytest.raises(SandboxError, match="Invalid"):
        SandboxState().read_pagination_token(token)  # another sandbox's key
    with pytest.raises(SandboxError, match="Invalid"):
        state.read_pagination_token("garbage")
    state.advance_clock(timedelta(hours=24, seconds=1).total_seconds())
    with pytest.raises(SandboxError, match="expired"):
        state.read_pagination_token(token)


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


def test_unknown_sellers_and_marketplaces_are_refused() -> None:
    state = SandboxState()

    with pytest.raises(SandboxError):
        create_order(state, OrderSpec(seller_id="NOBODY"))
    with pytest.raises(SandboxError):
        create_order(state, OrderSpec(marketplace_id="XXXX"))
