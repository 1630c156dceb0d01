"""The store's fit check: an order whose values its columns cannot hold is named, with the
column and the limit, before a page's upsert; the limits come from the tables themselves."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, Text

from domain.orders import AmazonOrder, LineCharges
from domain.shared import Money
from infra.db.ingestion.fit import column_limits, order_misfit, row_misfit, text_length
from infra.db.tables import Order, OrderItem, SetAsideOrder
from tests.fakes.builders import make_order


def with_line(order: AmazonOrder, **changes: object) -> AmazonOrder:
    return replace(order, lines=(replace(order.lines[0], **changes),))  # type: ignore[arg-type]


def test_the_limits_are_the_tables_own() -> None:
    limits = column_limits(Order.__table__, ("marketplace_id", "service_level", "order_total"))
    assert limits.texts == (("marketplace_id", 20), ("service_level", 60))
    assert [(name, bound) for name, bound, _, _ in limits.decimals] == [
        ("order_total", Decimal(10) ** 14)
    ]
    items = column_limits(OrderItem.__table__, ("sku", "title", "quantity_ordered"))
    assert items.texts == (("sku", 100), ("title", None))
    assert items.integers == (("quantity_ordered", 2**31 - 1),)
    assert text_length(SetAsideOrder.__table__, "amazon_order_id") == 40


def test_a_table_widened_widens_the_check() -> None:
    table = Table(
        "t",
        MetaData(),
        Column("code", String(5)),
        Column("note", Text),
        Column("count", Integer),
        Column("amount", Numeric(6, 2)),
    )
    limits = column_limits(table, ("code", "note", "count", "amount"))
    fits = {"code": "abcde", "note": "x" * 10_000, "count": -(2**31), "amount": Decimal("9999.99")}
    assert row_misfit(fits, limits) is None
    assert row_misfit({**fits, "code": "abcdef"}, limits) == (
        "code is longer than the store holds (5 characters)"
    )
    assert row_misfit({**fits, "count": 2**31}, limits) == (
        "count 2147483648 is past what the store holds (2147483647)"
    )
    assert row_misfit({**fits, "count": -(2**31) - 1}, limits) is not None
    refused = row_misfit({**fits, "amount": Decimal("10000")}, limits)
    assert refused == "amount 10000 is past what the store holds (numeric(6, 2): under 10,000)"


@pytest.mark.parametrize(
    ("amount", "fits"),
    [
        ("99999999999999.9999", True),
        ("-99999999999999.9999", True),
        ("99999999999999.99994", True),  # rounds down to four places
        ("99999999999999.99995", False),  # rounds up to 10^14
        ("100000000000000", False),
        ("1E+308", False),
        ("1E+999999", False),
        ("0.00001", True),  # rounds to 0.0000
    ],
)
def test_money_fits_numeric_18_4_after_rounding_to_its_scale(amount: str, fits: bool) -> None:
    order = make_order(1, total=Money(Decimal(amount), "USD"))
    problem = order_misfit(1, order)
    assert (problem is None) == fits, problem
    if not fits:
        assert problem is not None and problem.startswith("order_total ")
        assert "past what the store holds (numeric(18, 4): under 100,000,000,000,000)" in problem


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"marketplace_id": "x" * 21}, "marketplace_id is longer than the store holds (20"),
        ({"service_level": "x" * 61}, "service_level is longer than the store holds (60"),
        ({"amazon_order_id": "1" * 41}, "amazon_order_id is longer than the store holds (40"),
        ({"replaced_order_id": "1" * 41}, "replaced_order_id is longer than the store holds"),
        ({"marketplace_id": "ATVPDKIKX0DER\x00"}, "marketplace_id holds NUL or a lone surrogate"),
        ({"service_level": "Std\ud800"}, "service_level holds NUL or a lone surrogate"),
        ({"service_level": "Stä\x00"}, "service_level holds NUL or a lone surrogate"),
    ],
)
def test_an_order_its_columns_cannot_hold_is_named(changes: dict[str, object], reason: str) -> None:
    problem = order_misfit(1, make_order(1, **changes))
    assert problem is not None and problem.startswith(reason), problem


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"sku": "S" * 101}, "items[0].sku is longer than the store holds (100 characters)"),
        ({"asin": "B" * 21}, "items[0].asin is longer than the store holds (20 characters)"),
        ({"order_item_id": "1" * 41}, "items[0].order_item_id is longer than the store holds"),
        ({"title": "a mug\x00"}, "items[0].title holds NUL or a lone surrogate"),
        ({"cancel_requested": True, "cancel_reason": "\udc80"}, "buyer_cancel_reason holds"),
        ({"cancel_reason": "\udc80"}, "items[0].cancel_reason holds NUL or a lone surrogate"),
        (
            {"quantity_ordered": 3_000_000_000},
            "items[0].quantity_ordered 3000000000 is past what the store holds (2147483647)",
        ),
        ({"quantity_shipped": 2**31}, "items[0].quantity_shipped 2147483648 is past"),
        ({"unit_price": Money(Decimal("1e20"), "USD")}, "items[0].unit_price 1E+20 is past"),
        (
            {"charges": LineCharges("USD", principal=Decimal(1), shipping=Decimal("1e15"))},
            "items[0].charged_shipping 1E+15 is past what the store holds",
        ),
    ],
)
def test_an_item_its_columns_cannot_hold_is_named(changes: dict[str, object], reason: str) -> None:
    problem = order_misfit(1, with_line(make_order(1), **changes))
    assert problem is not None and problem.startswith(reason), problem


def test_an_order_that_fits_has_no_misfit_and_a_title_of_any_length_fits() -> None:
    assert order_misfit(1, make_order(1)) is None
    long_title = with_line(make_order(1), title="A mug " * 10_000, sku="S" * 100)
    assert order_misfit(1, long_title) is None


def test_a_sum_of_lines_past_what_a_decimal_holds_is_named_not_raised() -> None:
    huge = Money(Decimal("9e999999"), "USD")
    order = with_line(make_order(1, total=None), unit_price=huge, quantity_ordered=2)
    problem = order_misfit(1, order)
    assert problem is not None and "order_total" in problem
