"""Every rule of a refund's intake, on the fake store's charged order: ITEM-A x3 charged 30.00
+ 6.00 shipping + 3.00 tax + 0.60 shipping tax (39.60), ITEM-B x1 charged 10.00 + 1.00 tax."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.orders import FulfilledBy, LineCharges, OrderStatus
from domain.refunds import (
    Component,
    Refund,
    RefundKind,
    RefundLine,
    RefundSource,
    RefundState,
    accept_refund,
    check_refund,
)
from domain.shared import Money
from tests.fakes import T0, FixedClock
from tests.fakes.refund_store import ORDER_ID, FakeRefundStore, charged_order
from tests.unit.domain.refunds.helpers import amounts, give, line, refund, refused

S = RefundState


def test_a_refund_by_amounts_is_accepted_with_its_lines_and_amazons_reason(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    found = give(
        store, clock, refund(line(item_price="10.00", tax="1.00"), line("ITEM-B", goodwill="2"))
    )
    assert found.state is S.ACCEPTED and found.kind is RefundKind.REFUND
    assert found.reason == "CustomerReturn" and found.currency == "USD"
    assert amounts(found, 0) == {"item_price": "10.00", "tax": "1.00"}
    assert amounts(found, 1) == {"goodwill": "2"}
    assert [(ln.order_item_id, ln.sku) for ln in found.lines] == [
        ("ITEM-A", "MUG-RED"),
        ("ITEM-B", "MUG-BLUE"),
    ]
    assert found.total == Money(Decimal("13.00"), "USD")


def test_a_refund_by_quantity_gets_each_charged_part_pro_rata(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    found = give(store, clock, refund(line(quantity=1)))
    assert amounts(found) == {
        "item_price": "10.00",
        "shipping": "2.00",
        "tax": "1.00",
        "shipping_tax": "0.20",
    }
    assert found.lines[0].quantity == 1


def test_units_refunded_one_by_one_give_back_exactly_what_the_line_charged(
    clock: FixedClock,
) -> None:
    store = FakeRefundStore(clock)
    odd = LineCharges("USD", principal=Decimal("10.00"), tax=Decimal("1.00"))
    order = charged_order()
    store.add_order(replace(order, lines=(replace(order.lines[0], charges=odd), order.lines[1])))
    given = [
        give(store, clock, refund(line(quantity=1), platform_refund_id=f"R-{n}")) for n in range(3)
    ]
    assert [amounts(r) for r in given] == [
        {"item_price": "3.33", "tax": "0.33"},
        {"item_price": "3.33", "tax": "0.33"},
        {"item_price": "3.34", "tax": "0.34"},
    ]
    assert sum((r.total.amount for r in given), Decimal(0)) == Decimal("11.00")
    fourth = accept_refund(refund(line(quantity=1), platform_refund_id="R-4"), store, clock)
    assert refused(fourth) == {
        "lines[0].quantity": "more units than are left to refund: 1 asked, 0 of 3 left "
        "(3 refunded or cancelled before)"
    }


def test_a_refund_must_give_back_more_than_0(store: FakeRefundStore, clock: FixedClock) -> None:
    result = accept_refund(refund(line(item_price="0", tax="0.00")), store, clock)
    assert refused(result) == {"lines": "a refund must give back more than 0"}
    kept = accept_refund(refund(line(item_price="5", restocking_fee="5")), store, clock)
    assert refused(kept) == {"lines": "a refund must give back more than 0"}


def test_a_component_never_goes_past_what_was_charged_less_what_was_refunded(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    too_much = accept_refund(refund(line(tax="3.01")), store, clock)
    assert refused(too_much) == {
        "lines[0].amounts.tax": "3.01 USD is more than is left to refund: 3.00 USD left "
        "(charged 3.00 USD, refunded before 0.00 USD)"
    }
    give(store, clock, refund(line(tax="2.00")))
    again = accept_refund(refund(line(tax="1.50"), platform_refund_id="R-2"), store, clock)
    assert refused(again) == {
        "lines[0].amounts.tax": "1.50 USD is more than is left to refund: 1.00 USD left "
        "(charged 3.00 USD, refunded before 2.00 USD)"
    }
    assert isinstance(
        give(store, clock, refund(line(tax="1.00"), platform_refund_id="R-3")), Refund
    )


@pytest.mark.parametrize("state", [S.HELD, S.ACCEPTED, S.IN_FEED, S.CONFIRMED])
def test_everything_refunded_before_counts_in_any_state_but_failed(
    store: FakeRefundStore, clock: FixedClock, state: RefundState
) -> None:
    first = give(store, clock, refund(line(item_price="30.00")))
    path = {
        S.HELD: [],
        S.ACCEPTED: [],
        S.IN_FEED: [S.IN_FEED],
        S.CONFIRMED: [S.IN_FEED, S.CONFIRMED],
    }[state]
    if state is S.HELD:
        store.rows[first.id] = replace(first, state=S.HELD)
    for step in path:
        store.set_state(first.id, step)
    second = accept_refund(refund(line(item_price="0.01"), platform_refund_id="R-2"), store, clock)
    assert "lines[0].amounts.item_price" in refused(second)


def test_a_failed_refund_gives_back_nothing_so_it_holds_nothing(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    first = give(store, clock, refund(line(item_price="30.00")))
    store.set_state(first.id, S.FAILED, failure_code="8560", failure_reason="no")
    give(store, clock, refund(line(item_price="30.00"), platform_refund_id="R-2"))


def test_refunds_recorded_from_amazon_count_too(store: FakeRefundStore, clock: FixedClock) -> None:
    usd = "USD"
    store.add(
        Refund(
            id=0,
            kind=RefundKind.REFUND,
            source=RefundSource.AMAZON,
            account_id=7,
            amazon_order_id=ORDER_ID,
            marketplace_id="ATVPDKIKX0DER",
            platform_id=None,
            reason="CustomerReturn",
            currency=usd,
            state=S.CONFIRMED,
            lines=(
                RefundLine(0, "ITEM-B", None, ((Component.ITEM_PRICE, Money(Decimal(10), usd)),)),
            ),
            fingerprint="",
            created_at=T0 - timedelta(hours=1),
        )
    )
    result = accept_refund(refund(line("ITEM-B", item_price="1")), store, clock)
    assert refused(result) == {
        "lines[0].amounts.item_price": "1.00 USD is more than is left to refund: 0.00 USD left "
        "(charged 10.00 USD, refunded before 10.00 USD)"
    }


def test_goodwill_and_return_shipping_only_within_the_lines_total(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    over = accept_refund(refund(line(goodwill="39.61")), store, clock)
    assert refused(over) == {
        "lines[0].amounts.goodwill": "goodwill and return shipping are given back only within "
        "the line's total: 39.61 USD asked, 39.60 USD left of the line's 39.60 USD (refunded "
        "before 0.00 USD)"
    }
    give(store, clock, refund(line(item_price="30.00")))
    late = accept_refund(
        refund(line(return_shipping="9.61"), platform_refund_id="R-2"), store, clock
    )
    assert refused(late) == {
        "lines[0].amounts.return_shipping": "goodwill and return shipping are given back only "
        "within the line's total: 9.61 USD asked, 9.60 USD left of the line's 39.60 USD "
        "(refunded before 30.00 USD)"
    }
    give(store, clock, refund(line(return_shipping="9.60"), platform_refund_id="R-3"))


def test_a_restocking_fee_is_kept_back_and_never_more_than_the_rest_of_the_line(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    found = give(store, clock, refund(line(item_price="10.00", restocking_fee="1.50")))
    assert found.total == Money(Decimal("8.50"), "USD")
    more = accept_refund(
        refund(line(item_price="1.00", restocking_fee="1.01"), platform_refund_id="R-2"),
        store,
        clock,
    )
    assert refused(more) == {
        "lines[0].amounts.restocking_fee": "is kept back from this line's refund, so it cannot "
        "be more than the rest of it: 1.01 USD kept back of 1.00 USD"
    }
    alone = accept_refund(refund(line(restocking_fee="1"), platform_refund_id="R-3"), store, clock)
    assert "lines[0].amounts.restocking_fee" in refused(alone)


def test_the_currency_when_given_is_the_orders(store: FakeRefundStore, clock: FixedClock) -> None:
    assert refused(accept_refund(refund(currency="EUR"), store, clock)) == {
        "currency": "the order is in USD, not EUR"
    }
    assert give(store, clock, refund(currency="USD")).currency == "USD"


@pytest.mark.parametrize(
    ("request_line", "field", "reason"),
    [
        (line("ITEM-Z", item_price="1"), "lines[0].order_item_id", "'ITEM-Z' is not an item"),
        (line(None, sku="MUG-GREEN", item_price="1"), "lines[0].sku", "no item of this order"),
        (line(sku="MUG-RED", item_price="1"), "lines[0]", "by order_item_id or by sku"),
        (line(None, item_price="1"), "lines[0]", "by order_item_id or by sku (exactly one)"),
        (line(quantity=1, item_price="1"), "lines[0]", "the amounts or a quantity, not both"),
        (line(), "lines[0]", "give the amounts to refund, or a quantity of units"),
        (line(quantity=0), "lines[0].quantity", "must be at least 1"),
        (line(quantity=4), "lines[0].quantity", "4 asked, 3 of 3 left"),
        (line(item_price="-1"), "lines[0].amounts.item_price", "must not be negative"),
        (line(restocking_fee="-1", item_price="2"), "lines[0].amounts.restocking_fee", "kept back"),
        (line(item_price="1.005"), "lines[0].amounts.item_price", "more decimals than USD has (2)"),
        (line(item_price="NaN"), "lines[0].amounts.item_price", "is not a number"),
    ],
)
def test_each_line_is_named_once_with_amounts_or_a_quantity_within_the_line(
    store: FakeRefundStore,
    clock: FixedClock,
    request_line: object,
    field: str,
    reason: str,
) -> None:
    result = accept_refund(refund(request_line), store, clock)  # type: ignore[arg-type]
    assert reason in refused(result)[field]


def test_a_line_by_sku_is_its_item_and_an_item_twice_is_refused(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    found = give(store, clock, refund(line(None, sku="MUG-BLUE", tax="1.00")))
    assert found.lines[0].order_item_id == "ITEM-B"
    twice = accept_refund(
        refund(line(item_price="1"), line(None, sku="MUG-RED", tax="1"), platform_refund_id="R-2"),
        store,
        clock,
    )
    assert refused(twice) == {"lines[1]": "item ITEM-A is lines[0] already: one line per item"}


def test_a_component_given_twice_is_refused(store: FakeRefundStore, clock: FixedClock) -> None:
    twice = refund(line())
    doubled = replace(
        twice.lines[0],
        amounts=((Component.TAX, Decimal(1)), (Component.TAX, Decimal(1))),
    )
    result = accept_refund(replace(twice, lines=(doubled,)), store, clock)
    assert refused(result) == {"lines[0].amounts.tax": "is given twice"}


def test_a_sku_on_two_items_must_be_named_by_item(clock: FixedClock) -> None:
    store = FakeRefundStore(clock)
    order = charged_order()
    store.add_order(replace(order, lines=(order.lines[0], replace(order.lines[1], sku="MUG-RED"))))
    result = accept_refund(refund(line(None, sku="MUG-RED", tax="1")), store, clock)
    assert refused(result) == {
        "lines[0].sku": "several items of this order have it: name the order_item_id"
    }


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY])
def test_a_pending_order_cannot_be_refunded_nothing_was_charged_yet(
    clock: FixedClock, status: OrderStatus
) -> None:
    store = FakeRefundStore(clock)
    order = charged_order(status=status)
    store.add_order(replace(order, lines=tuple(replace(x, charges=None) for x in order.lines)))
    result = accept_refund(refund(), store, clock)
    assert refused(result) == {
        "amazon_order_id": f"the order is {status} on Amazon: nothing was charged yet, so it "
        "cannot be refunded"
    }


def test_a_line_amazon_gave_no_charges_for_cannot_be_refunded(clock: FixedClock) -> None:
    store = FakeRefundStore(clock)
    order = charged_order()
    store.add_order(replace(order, lines=(replace(order.lines[0], charges=None), order.lines[1])))
    result = accept_refund(refund(line(item_price="1"), line("ITEM-B", tax="1")), store, clock)
    assert list(refused(result)) == ["lines[0]"]
    assert "no proceeds" in refused(result)["lines[0]"]


def test_an_order_fulfilled_by_amazon_can_be_refunded(clock: FixedClock) -> None:
    store = FakeRefundStore(clock)
    store.add_order(charged_order(fulfilled_by=FulfilledBy.AMAZON, status=OrderStatus.SHIPPED))
    assert give(store, clock, refund()).state is S.ACCEPTED


def test_every_refusal_is_collected_not_the_first_only(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    result = accept_refund(
        refund(
            line("ITEM-Z", item_price="1"),
            line(tax="9"),
            line("ITEM-B", item_price="10.001"),
            reason="because",
            currency="GBP",
        ),
        store,
        clock,
    )
    assert sorted(refused(result)) == [
        "currency",
        "lines[0].order_item_id",
        "lines[1].amounts.tax",
        "lines[2].amounts.item_price",
        "reason",
    ]


def test_reasons_are_amazons_and_an_unknown_one_lists_what_is_accepted(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    assert give(store, clock, refund(reason="PriceError")).reason == "PriceError"
    found = give(store, clock, refund(reason="goodwill", platform_refund_id="R-2"))
    assert found.reason == "GeneralAdjustment"
    unknown = refused(accept_refund(refund(reason="bored", platform_refund_id="R-3"), store, clock))
    assert unknown["reason"].startswith("unknown reason 'bored': use one of customer_return, ")
    assert "or Amazon's AdjustmentReason (NoInventory, CustomerReturn," in unknown["reason"]


def test_check_refund_alone_returns_the_lines_with_ids_still_zero() -> None:
    lines, errors = check_refund(refund(line(quantity=3)), charged_order(), [])
    assert errors == []
    assert lines[0].id == 0 and lines[0].total == Money(Decimal("39.60"), "USD")
