"""The reconnect plan: no held refund of a shipped order is called safe, and a cancellation
whose units shipped meanwhile is called impossible."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from domain.orders import OrderLine, OrderStatus
from domain.refunds import Component, Refund, RefundKind, RefundLine, RefundSource, RefundState
from domain.refunds.reconnect import Verdict, caught_up, plan, verdict_for
from domain.shared import Money
from tests.fakes.builders import make_order
from tests.fakes.clock import T0

ORDER = make_order(1)
ITEM = ORDER.lines[0].order_item_id


def held(kind: RefundKind, *, whole_order: bool = False, quantity: int | None = 1) -> Refund:
    return Refund(
        id=7,
        kind=kind,
        source=RefundSource.STORE,
        account_id=1,
        amazon_order_id=ORDER.amazon_order_id,
        marketplace_id=ORDER.marketplace_id,
        platform_id="R-1",
        reason="CustomerReturn" if kind is RefundKind.REFUND else "NoInventory",
        currency="USD",
        state=RefundState.HELD,
        lines=(
            RefundLine(
                id=70,
                order_item_id=ITEM,
                sku=None,
                amounts=((Component.ITEM_PRICE, Money(Decimal("9.99"), "USD")),),
                quantity=quantity,
            ),
        ),
        fingerprint="f",
        created_at=T0,
        whole_order=whole_order,
    )


def shipped(units: int) -> OrderLine:
    return replace(ORDER.lines[0], quantity_shipped=units)


def test_a_refund_of_an_order_that_never_shipped_is_safe() -> None:
    assert verdict_for(held(RefundKind.REFUND), ORDER).verdict is Verdict.SAFE


def test_a_refund_of_an_order_that_shipped_meanwhile_needs_a_person() -> None:
    order = replace(ORDER, status=OrderStatus.SHIPPED, lines=(shipped(2),))
    item = verdict_for(held(RefundKind.REFUND), order)
    assert item.verdict is Verdict.NEEDS_APPROVAL
    assert "has shipped" in item.reason


def test_a_refund_of_an_order_the_store_does_not_have_needs_a_person() -> None:
    assert verdict_for(held(RefundKind.REFUND), None).verdict is Verdict.NEEDS_APPROVAL


def test_a_whole_order_cancellation_after_units_shipped_cannot_be_done() -> None:
    order = replace(ORDER, status=OrderStatus.PARTIALLY_SHIPPED, lines=(shipped(1),))
    item = verdict_for(held(RefundKind.CANCELLATION, whole_order=True), order)
    assert item.verdict is Verdict.CANNOT
    assert "cannot be cancelled as a whole" in item.reason


def test_a_cancellation_of_more_units_than_are_left_unshipped_cannot_be_done() -> None:
    order = replace(ORDER, status=OrderStatus.PARTIALLY_SHIPPED, lines=(shipped(1),))
    item = verdict_for(held(RefundKind.CANCELLATION, quantity=2), order)
    assert item.verdict is Verdict.CANNOT
    assert "1 unshipped unit(s) left" in item.reason


def test_a_cancellation_of_an_order_cancelled_on_amazon_cannot_be_done() -> None:
    order = replace(ORDER, status=OrderStatus.CANCELLED)
    assert verdict_for(held(RefundKind.CANCELLATION), order).verdict is Verdict.CANNOT


def test_the_plan_lists_only_the_safe_ones_as_safe() -> None:
    shipped_order = replace(ORDER, status=OrderStatus.SHIPPED, lines=(shipped(2),))
    result = plan(
        1,
        True,
        [(held(RefundKind.REFUND), ORDER), (held(RefundKind.REFUND), shipped_order)],
        fulfilments_waiting=3,
        sync_from=T0,
    )
    assert [item.verdict for item in result.items] == [Verdict.SAFE, Verdict.NEEDS_APPROVAL]
    assert len(result.safe) == 1


def test_before_the_sync_caught_up_since_the_reconnect_nothing_is_safe() -> None:
    result = plan(1, True, [(held(RefundKind.REFUND), ORDER)], 0, T0, synced=False)
    (item,) = result.items
    assert item.verdict is Verdict.NEEDS_APPROVAL and "not caught up" in item.reason
    later = T0 + timedelta(minutes=1)
    assert not caught_up(True, T0, later)
    assert caught_up(True, later, T0) and caught_up(True, T0, None)
    assert not caught_up(True, None, None) and not caught_up(False, later, T0)
