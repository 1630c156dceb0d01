"""Every rule of a cancellation's intake: unshipped units only, merchant orders only, never
twice, and always with the refund of what the cancelled units charged."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from domain.orders import FulfilledBy, LineCharges, OrderStatus
from domain.refunds import CancelLineRequest, RefundKind, RefundState, accept_cancellation
from domain.refunds.rules import NEEDS_A_REFUND
from domain.shared import Money
from tests.fakes import FixedClock
from tests.fakes.refund_store import FakeRefundStore, charged_order, shipped
from tests.unit.domain.refunds.helpers import amounts, cancel, give, line, refund, refused, stop

A = CancelLineRequest(order_item_id="ITEM-A")
B = CancelLineRequest(order_item_id="ITEM-B")


def only(order: object, clock: FixedClock) -> FakeRefundStore:
    store = FakeRefundStore(clock)
    store.add_order(order)  # type: ignore[arg-type]
    return store


def test_the_whole_order_lists_every_unshipped_item_with_what_it_charged(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    found = stop(store, clock, cancel())
    assert found.kind is RefundKind.CANCELLATION and found.whole_order
    assert found.state is RefundState.ACCEPTED and found.reason == "NoInventory"
    assert [(ln.order_item_id, ln.quantity) for ln in found.lines] == [("ITEM-A", 3), ("ITEM-B", 1)]
    assert amounts(found, 0) == {
        "item_price": "30.00",
        "shipping": "6.00",
        "tax": "3.00",
        "shipping_tax": "0.60",
    }
    assert found.total == Money(Decimal("50.60"), "USD")


def test_the_refund_amount_when_given_equals_what_the_cancelled_units_charged(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    wrong = accept_cancellation(cancel(refund_amount=Decimal("50.00")), store, clock)
    assert refused(wrong) == {
        "refund_amount": "must be what the cancelled units charged, 50.60 USD (Amazon gives "
        "that back), not 50.00 USD"
    }
    found = stop(store, clock, cancel(refund_amount=Decimal("50.6")))
    assert found.total.amount == Decimal("50.60")


@pytest.mark.parametrize("amount", ["0", "-1"])
def test_every_cancellation_carries_a_refund_of_more_than_0(
    store: FakeRefundStore, clock: FixedClock, amount: str
) -> None:
    result = accept_cancellation(cancel(refund_amount=Decimal(amount)), store, clock)
    assert refused(result) == {"refund_amount": NEEDS_A_REFUND}


def test_a_line_that_charged_nothing_cannot_be_cancelled_alone(clock: FixedClock) -> None:
    order = charged_order()
    free = replace(order.lines[1], charges=LineCharges("USD", principal=Decimal(0)))
    store = only(replace(order, lines=(order.lines[0], free)), clock)
    assert refused(accept_cancellation(cancel(B), store, clock)) == {
        "refund_amount": NEEDS_A_REFUND
    }


def test_some_units_of_a_line_are_cancelled_with_their_share(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    found = stop(store, clock, cancel(CancelLineRequest(order_item_id="ITEM-A", quantity=1)))
    assert not found.whole_order and found.lines[0].quantity == 1
    assert found.total == Money(Decimal("13.20"), "USD")
    rest = stop(store, clock, cancel(A, platform_cancellation_id="C-2"))
    assert rest.lines[0].quantity == 2
    assert rest.total == Money(Decimal("26.40"), "USD")


def test_only_unshipped_units_can_be_cancelled_shipped_ones_are_refunded(clock: FixedClock) -> None:
    store = only(shipped(charged_order(), "ITEM-A", 2), clock)
    whole = accept_cancellation(cancel(), store, clock)
    assert refused(whole) == {
        "lines": "the whole order can be cancelled only while nothing shipped: 2 units shipped; "
        "name the unshipped lines to cancel, and refund the shipped ones"
    }
    too_many = accept_cancellation(
        cancel(CancelLineRequest(order_item_id="ITEM-A", quantity=2)), store, clock
    )
    assert refused(too_many) == {
        "lines[0].quantity": "only unshipped units can be cancelled: 2 asked, 1 of 3 unshipped "
        "(2 shipped: refund those)"
    }
    found = stop(store, clock, cancel(A))
    assert found.lines[0].quantity == 1 and found.total == Money(Decimal("13.20"), "USD")


def test_a_line_shipped_in_full_cannot_be_cancelled(clock: FixedClock) -> None:
    store = only(shipped(charged_order(), "ITEM-B", 1), clock)
    result = accept_cancellation(cancel(B), store, clock)
    assert refused(result) == {
        "lines[0]": "only unshipped units can be cancelled: none of its 1 is left (1 shipped: "
        "refund those)"
    }


def test_units_cancelled_before_are_no_longer_unshipped(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    stop(store, clock, cancel(CancelLineRequest(order_item_id="ITEM-A", quantity=1)))
    result = accept_cancellation(
        cancel(
            CancelLineRequest(order_item_id="ITEM-A", quantity=3), platform_cancellation_id="C-2"
        ),
        store,
        clock,
    )
    assert refused(result) == {
        "lines[0].quantity": "only unshipped units can be cancelled: 3 asked, 2 of 3 unshipped "
        "(0 shipped: refund those, 1 cancelled before)"
    }


def test_the_last_units_cancelled_give_back_what_remains_after_a_refund(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    give(store, clock, refund(line(item_price="5.00")))
    found = stop(store, clock, cancel(A))
    assert amounts(found)["item_price"] == "25.00"
    assert found.total == Money(Decimal("34.60"), "USD")


def test_an_order_fulfilled_by_amazon_can_be_refunded_but_not_cancelled(clock: FixedClock) -> None:
    store = only(charged_order(fulfilled_by=FulfilledBy.AMAZON), clock)
    assert refused(accept_cancellation(cancel(), store, clock)) == {
        "amazon_order_id": "fulfilled by Amazon: Amazon ships it, so it can be refunded but not "
        "cancelled"
    }


def test_a_cancelled_order_cannot_be_cancelled_again(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    first = stop(store, clock, cancel())
    again = accept_cancellation(cancel(platform_cancellation_id="C-2"), store, clock)
    assert refused(again) == {
        "amazon_order_id": f"the whole order is cancelled already (cancellation {first.id}, "
        "accepted): it cannot be cancelled again"
    }
    on_amazon = only(charged_order(status=OrderStatus.CANCELLED), clock)
    assert refused(accept_cancellation(cancel(), on_amazon, clock)) == {
        "amazon_order_id": "the order is cancelled on Amazon already: it cannot be cancelled again"
    }
    units = accept_cancellation(cancel(B, platform_cancellation_id="C-3"), store, clock)
    assert "cannot be cancelled again" in refused(units)["amazon_order_id"]


def test_a_pending_order_cannot_be_cancelled_with_a_refund(clock: FixedClock) -> None:
    order = charged_order(status=OrderStatus.PENDING)
    store = only(replace(order, lines=tuple(replace(x, charges=None) for x in order.lines)), clock)
    result = refused(accept_cancellation(cancel(), store, clock))
    assert result == {
        "amazon_order_id": "the order is PENDING on Amazon: nothing was charged yet, so it "
        "cannot be cancelled with a refund"
    }


def test_reasons_are_amazons_cancel_reasons_and_an_unknown_one_lists_them(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    assert stop(store, clock, cancel(B, reason="BuyerCanceled")).reason == "BuyerCanceled"
    unknown = refused(
        accept_cancellation(cancel(A, reason="whim", platform_cancellation_id="C-2"), store, clock)
    )
    assert unknown["reason"].startswith("unknown reason 'whim': use one of no_inventory, ")
    assert (
        "or Amazon's CancelReason (NoInventory, ShippingAddressUndeliverable," in unknown["reason"]
    )


def test_every_refusal_is_collected(store: FakeRefundStore, clock: FixedClock) -> None:
    result = accept_cancellation(
        cancel(
            CancelLineRequest(order_item_id="ITEM-Z"),
            CancelLineRequest(order_item_id="ITEM-A", quantity=4),
            CancelLineRequest(sku="MUG-BLUE", quantity=0),
            reason="whim",
            currency="EUR",
            refund_amount=Decimal(0),
        ),
        store,
        clock,
    )
    assert sorted(refused(result)) == [
        "currency",
        "lines[0].order_item_id",
        "lines[1].quantity",
        "lines[2].quantity",
        "reason",
        "refund_amount",
    ]
