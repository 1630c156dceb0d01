"""The ledger of financial events: shipment events for units newly shipped, refund events for
recorded adjustments, and 14-day groups that close as time passes and add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, create_order
from infra.amazon.sandbox.state import GROUP_PERIOD, SandboxAdjustment, SandboxState, period_start
from infra.amazon.sandbox.state.finances import GROUP_EPOCH, Ledger, group_id


def test_periods_are_fourteen_days_from_the_epoch() -> None:
    inside = GROUP_EPOCH + 3 * GROUP_PERIOD + timedelta(days=5)

    assert period_start(inside) == GROUP_EPOCH + 3 * GROUP_PERIOD
    assert period_start(GROUP_EPOCH + GROUP_PERIOD) == GROUP_EPOCH + GROUP_PERIOD
    assert period_start(GROUP_EPOCH - timedelta(seconds=1)) == GROUP_EPOCH - GROUP_PERIOD
    assert group_id("S", "USD", GROUP_EPOCH) == group_id("S", "USD", GROUP_EPOCH)
    assert group_id("S", "USD", GROUP_EPOCH) != group_id("S", "EUR", GROUP_EPOCH)
    assert len(group_id("S", "USD", GROUP_EPOCH)) == 43


def test_units_are_charged_once_however_often_the_order_moves() -> None:
    state = SandboxState(seed=2)
    order = create_order(
        state, OrderSpec(items=[ItemSpec(sku="A", quantity=2, unit_price=Decimal("10.00"))])
    )

    state.set_status(order.order_id, "PARTIALLY_SHIPPED")
    state.set_status(order.order_id, "SHIPPED")
    state.set_status(order.order_id, "UNSHIPPED")
    state.set_status(order.order_id, "SHIPPED")
    events = state.financial_events(order.seller_id)

    assert [e.kind for e in events] == ["shipment", "shipment"]
    assert [e.items[0].quantity for e in events] == [1, 1]
    assert order.items[0].quantity_charged == 2


def test_groups_close_when_their_period_ends_and_their_totals_add_up() -> None:
    state = SandboxState(seed=3)
    shipped = create_order(state, OrderSpec(status="SHIPPED"))
    item = shipped.items[0]
    adjustment = SandboxAdjustment(
        source="seller_central",
        feed_id=None,
        message_id=None,
        reason="CustomerReturn",
        currency=shipped.currency,
        components=(("Principal", Decimal("1.00")),),
        quantity_cancelled=0,
        merchant_adjustment_item_id=None,
        posted_at=state.now(),
        order_adjustment_item_id=state.new_adjustment_item_id(),
    )
    state.post_refund(shipped, [(item, adjustment)])
    (first,) = state.event_groups(shipped.seller_id)
    state.advance_clock(GROUP_PERIOD.total_seconds())
    later = create_order(state, OrderSpec(status="SHIPPED"))
    closed, current = state.event_groups(later.seller_id)

    assert first.open and len(first.events) == 2
    assert first.total == sum((e.net for e in first.events), Decimal(0))
    assert not closed.open and closed.group_id == first.group_id
    assert current.open and [e.order_id for e in current.events] == [later.order_id]
    assert closed.end == current.start


def test_an_empty_ledger_has_no_groups() -> None:
    ledger = Ledger()

    assert ledger.groups("S", datetime(2026, 1, 1, tzinfo=UTC)) == []
    assert ledger.new_adjustment_item_id() != ledger.new_adjustment_item_id()
