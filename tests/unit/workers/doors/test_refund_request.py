"""The refund and cancellation request models: the commands they make, every refusal with its
field and reason, amounts as decimals in the currency's places, strict JSON types, and the
limits of a hostile body (depth, the count of refusals). The messages and the schemas:
``test_refund_messages``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.refunds import (
    FIELD_NAMES,
    CancelLineRequest,
    CancelOrder,
    Component,
    IssueRefund,
    RefundLineRequest,
)
from tests.unit.workers.doors.refund_requests import (
    MORE_THAN_ZERO,
    NOTHING_BACK,
    ORDER_ID,
    REFUND_ITEM,
    cancellation,
    line,
    refund,
    refusals,
)
from workers.doors.refunds import (
    RefundRequestRefused,
    read_cancellation,
    read_refund,
)
from workers.doors.refunds.fields import MAX_AMOUNT

# --- the commands ---------------------------------------------------------------------------


def test_a_refund_becomes_the_command_with_decimals_and_amazons_reason() -> None:
    command = read_refund(
        refund(
            account=" acme ",
            currency="usd",
            lines=[
                {
                    "order_item_id": " ITEM-A ",
                    "amounts": {
                        "item_price": "19.99",
                        "tax": Decimal("1.6"),
                        "shipping": 0,
                        "restocking_fee": 2,
                        "goodwill": None,
                    },
                },
                {"sku": "MUG-RED", "quantity": 2},
            ],
        )
    )
    assert command == IssueRefund(
        account="acme",
        amazon_order_id=ORDER_ID,
        platform_refund_id="R-1",
        reason="CustomerReturn",
        lines=(
            RefundLineRequest(
                order_item_id="ITEM-A",
                amounts=(
                    (Component.ITEM_PRICE, Decimal("19.99")),
                    (Component.TAX, Decimal("1.6")),
                    (Component.RESTOCKING_FEE, Decimal("2")),
                ),
            ),
            RefundLineRequest(sku="MUG-RED", quantity=2),
        ),
        currency="USD",
    )
    assert all(isinstance(a, Decimal) for _, a in command.lines[0].amounts)


def test_amazons_own_reason_is_taken_as_it_is() -> None:
    assert read_refund(refund(reason="PriceError")).reason == "PriceError"
    assert read_refund(refund(reason="goodwill")).reason == "GeneralAdjustment"


def test_a_cancellation_becomes_the_command_none_lines_is_the_whole_order() -> None:
    assert read_cancellation(cancellation()) == CancelOrder(
        account="acme",
        amazon_order_id=ORDER_ID,
        platform_cancellation_id="C-1",
        reason="BuyerCanceled",
    )
    command = read_cancellation(
        cancellation(
            account=7,
            reason="NoInventory",
            lines=[{"sku": "MUG-RED", "quantity": 1}, {"order_item_id": "ITEM-B"}],
            refund_amount="21.59",
            currency="EUR",
        )
    )
    assert command == CancelOrder(
        account="7",
        amazon_order_id=ORDER_ID,
        platform_cancellation_id="C-1",
        reason="NoInventory",
        lines=(CancelLineRequest(sku="MUG-RED", quantity=1), CancelLineRequest("ITEM-B")),
        refund_amount=Decimal("21.59"),
        currency="EUR",
    )
    assert read_cancellation(cancellation(lines=[])).lines == ()


def test_a_null_optional_field_reads_as_absent() -> None:
    nulls = {"lines": None, "refund_amount": None, "currency": None}
    assert read_cancellation({**cancellation(), **nulls}) == read_cancellation(cancellation())
    assert read_refund({**refund(), "currency": None}) == read_refund(refund())
    no_amounts = {"sku": "A", "quantity": 1, "amounts": None, "order_item_id": None}
    assert read_refund(refund(lines=[no_amounts])).lines == (
        RefundLineRequest(sku="A", quantity=1),
    )


def test_equal_refunds_have_equal_fingerprints_however_they_are_spelled() -> None:
    one = read_refund(refund(reason="CustomerReturn", lines=[line(item_price="19.90", tax=0)]))
    two = read_refund(refund(lines=[line(item_price=Decimal("19.9"), shipping="0.00")]))
    assert one.fingerprint() == two.fingerprint()
    other = read_refund(refund(lines=[line(item_price="19.91")]))
    assert one.fingerprint() != other.fingerprint()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("19.99", Decimal("19.99")),
        (" 19.99 ", Decimal("19.99")),
        ("20", Decimal("20")),
        (20, Decimal("20")),
        (Decimal("0.10"), Decimal("0.10")),
        (19.99, Decimal("19.99")),  # a float a queue's parser made: its shortest spelling
        (0.1, Decimal("0.1")),
        ("19.990", Decimal("19.990")),  # the same amount as 19.99
    ],
)
def test_an_amount_is_a_decimal_however_json_carried_it(given: Any, expected: Decimal) -> None:
    (line_,) = read_refund(refund(lines=[line(item_price=given)])).lines
    ((_, amount),) = line_.amounts
    assert isinstance(amount, Decimal) and amount == expected


# --- every refusal --------------------------------------------------------------------------

AMOUNT = "lines[0].amounts.item_price"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"colour": "red"}, "colour", "unknown field"),
        ({"account": None}, "account", "required: the seller account"),
        ({"account": " "}, "account", "required: the seller account"),
        ({"account": True}, "account", "must be a string"),
        (
            {"account": 0},
            "account",
            "an account id is a whole number from 1 to 9223372036854775807, in the digits 0-9",
        ),
        (
            {"account": "9" * 20},
            "account",
            "an account id is a whole number from 1 to 9223372036854775807, in the digits 0-9",
        ),
        (
            {"account": "a\x00b"},
            "account",
            "must not contain control characters (U+0000 at character 2)",
        ),
        ({"amazon_order_id": None}, "amazon_order_id", "required: Amazon's order id"),
        ({"amazon_order_id": "1" * 41}, "amazon_order_id", "longer than 40 characters"),
        ({"amazon_order_id": 113}, "amazon_order_id", "must be a string"),
        (
            {"platform_refund_id": ""},
            "platform_refund_id",
            "required: the store's id of this refund",
        ),
        ({"platform_refund_id": "R" * 101}, "platform_refund_id", "longer than 100 characters"),
        (
            {"reason": None},
            "reason",
            "required: why the refund is made (customer_return, goodwill, ...)",
        ),
        ({"reason": 5}, "reason", "must be a string"),
        ({"reason": "R" * 61}, "reason", "longer than 60 characters"),
        ({"currency": "us"}, "currency", "'us' is not an ISO 4217 currency code (such as 'USD')"),
        ({"currency": "U$D"}, "currency", "'U$D' is not an ISO 4217 currency code (such as 'USD')"),
        ({"currency": 840}, "currency", "must be an ISO 4217 currency code such as 'USD'"),
        ({"lines": None}, "lines", f"required: at least one line {REFUND_ITEM}"),
        ({"lines": []}, "lines", f"required: at least one line {REFUND_ITEM}"),
        ({"lines": "all"}, "lines", f"must be a list of {REFUND_ITEM}"),
        ({"lines": [line(item_price="1")] * 101}, "lines", "at most 100 lines in one request"),
        ({"lines": ["X"]}, "lines[0]", f"must be an object {REFUND_ITEM}"),
        (
            {"lines": [{"amounts": {"tax": "1"}}]},
            "lines[0]",
            "name the item by order_item_id or by sku (one)",
        ),
        (
            {"lines": [{"sku": "A", "order_item_id": "B", "quantity": 1}]},
            "lines[0]",
            "name the item by order_item_id or by sku (one)",
        ),
        ({"lines": [{"sku": "A"}]}, "lines[0]", "give amounts or a quantity (one)"),
        (
            {"lines": [{"sku": "A", "quantity": 1, "amounts": {"tax": "1"}}]},
            "lines[0]",
            "give amounts or a quantity (one)",
        ),
        (
            {"lines": [{"quantity": 1, "amounts": {"tax": "1"}}]},
            "lines[0]",
            "name the item by order_item_id or by sku (one); give amounts or a quantity (one)",
        ),
        ({"lines": [{"sku": " ", "quantity": 1}]}, "lines[0].sku", "must be a non-empty string"),
        (
            {"lines": [{"sku": "A", "quantity": 0}]},
            "lines[0].quantity",
            "must be a whole number of at least 1",
        ),
        (
            {"lines": [{"sku": "A", "quantity": 2**31}]},
            "lines[0].quantity",
            "must be at most 2147483647",
        ),
        (
            {"lines": [{"sku": "A", "quantity": "1"}]},
            "lines[0].quantity",
            "must be a whole number of at least 1",
        ),
        ({"lines": [{"sku": "A", "quantity": 1, "x": 1}]}, "lines[0].x", "unknown field"),
        (
            {"lines": [{"sku": "A", "amounts": "19.99"}]},
            "lines[0].amounts",
            "must be an object of amounts per component (" + ", ".join(FIELD_NAMES) + ")",
        ),
        ({"lines": [line()]}, "lines[0].amounts", NOTHING_BACK),
        ({"lines": [line(item_price="0")]}, "lines[0].amounts", NOTHING_BACK),
        ({"lines": [line(restocking_fee="2.00")]}, "lines[0].amounts", NOTHING_BACK),
        ({"lines": [line(item_price="1", colour="1")]}, "lines[0].amounts.colour", "unknown field"),
        ({"lines": [line(item_price="-1")]}, AMOUNT, "must not be negative"),
        ({"lines": [line(item_price=-1)]}, AMOUNT, "must not be negative"),
        (
            {"lines": [line(item_price="1.999")]},
            AMOUNT,
            "at most 2 decimal places",
        ),
        (
            {"lines": [line(item_price=Decimal("0.001"))]},
            AMOUNT,
            "at most 2 decimal places",
        ),
        (
            {"lines": [line(item_price=0.1 + 0.2)]},
            AMOUNT,
            "at most 2 decimal places",
        ),
        (
            {"lines": [line(item_price="1e3")]},
            AMOUNT,
            "'1e3' is not a decimal amount such as \"19.99\"",
        ),
        (
            {"lines": [line(item_price="1_000")]},
            AMOUNT,
            "'1_000' is not a decimal amount such as \"19.99\"",
        ),
        (
            {"lines": [line(item_price="١٢")]},
            AMOUNT,
            "'١٢' is not a decimal amount such as \"19.99\"",
        ),
        ({"lines": [line(item_price="")]}, AMOUNT, "'' is not a decimal amount such as \"19.99\""),
        (
            {"lines": [line(item_price="NaN")]},
            AMOUNT,
            "'NaN' is not a decimal amount such as \"19.99\"",
        ),
        (
            {"lines": [line(item_price=Decimal("NaN"))]},
            AMOUNT,
            "Decimal('NaN') is not a finite amount",
        ),
        ({"lines": [line(item_price=float("inf"))]}, AMOUNT, "inf is not a finite amount"),
        (
            {"lines": [line(item_price=True)]},
            AMOUNT,
            'must be a decimal amount: a string such as "19.99", or a number',
        ),
        (
            {"lines": [line(item_price=["1"])]},
            AMOUNT,
            'must be a decimal amount: a string such as "19.99", or a number',
        ),
        ({"lines": [line(item_price="10000000000")]}, AMOUNT, f"must be at most {MAX_AMOUNT}"),
        (
            {"lines": [line(item_price=Decimal("1E+999999"))]},
            AMOUNT,
            f"must be at most {MAX_AMOUNT}",
        ),
        (
            {"currency": "JPY", "lines": [line(item_price="1500.5")]},
            AMOUNT,
            "must be a whole amount (JPY), with no decimal places",
        ),
        (
            {"currency": "EUR", "lines": [line(item_price="1.234")]},
            AMOUNT,
            "at most 2 decimal places (EUR)",
        ),
    ],
)
def test_each_refund_refusal_names_the_field_and_a_reason_a_person_can_act_on(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    assert refusals(read_refund, {**refund(), **changes}) == {field: reason}


def test_a_reason_outside_both_lists_is_refused_naming_them() -> None:
    found = refusals(read_refund, refund(reason="because"))["reason"]
    assert found.startswith("'because' is not a refund reason: one of customer_return, ")
    assert "or Amazon's own (NoInventory, CustomerReturn" in found
    found = refusals(read_cancellation, cancellation(reason="customer_cancel"))["reason"]
    assert found.startswith("'customer_cancel' is not a cancellation reason: one of ")
    assert "BuyerCanceled" in found


def test_amounts_in_a_currency_without_decimal_places() -> None:
    (jpy,) = read_refund(refund(currency="jpy", lines=[line(item_price=1500)])).lines
    assert jpy.amounts == ((Component.ITEM_PRICE, Decimal(1500)),)
    (same,) = read_refund(refund(currency="JPY", lines=[line(item_price="1500.00")])).lines
    assert same.amounts == ((Component.ITEM_PRICE, Decimal("1500.00")),)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"account": None}, "account", "required: the seller account"),
        (
            {"platform_cancellation_id": None},
            "platform_cancellation_id",
            "required: the store's id of this cancellation",
        ),
        (
            {"reason": None},
            "reason",
            "required: why the order is cancelled (buyer_canceled, no_inventory, ...)",
        ),
        ({"lines": "all"}, "lines", "must be a list of {order_item_id or sku, quantity}"),
        ({"lines": [5]}, "lines[0]", "must be an object {order_item_id or sku, quantity}"),
        (
            {"lines": [{"quantity": 1}]},
            "lines[0]",
            "name the item by order_item_id or by sku (one)",
        ),
        (
            {"lines": [{"sku": "A", "quantity": 0}]},
            "lines[0].quantity",
            "must be a whole number of at least 1",
        ),
        ({"lines": [{"sku": "A", "amounts": {"tax": "1"}}]}, "lines[0].amounts", "unknown field"),
        ({"lines": [{"sku": "A"}] * 101}, "lines", "at most 100 lines in one request"),
        ({"refund_amount": "0"}, "refund_amount", MORE_THAN_ZERO),
        ({"refund_amount": "-5"}, "refund_amount", "must not be negative"),
        (
            {"refund_amount": "5.001"},
            "refund_amount",
            "at most 2 decimal places",
        ),
        (
            {"refund_amount": "5.5", "currency": "JPY"},
            "refund_amount",
            "must be a whole amount (JPY), with no decimal places",
        ),
        (
            {"refund_amount": False},
            "refund_amount",
            'must be a decimal amount: a string such as "19.99", or a number',
        ),
        (
            {"currency": "euro"},
            "currency",
            "'euro' is not an ISO 4217 currency code (such as 'USD')",
        ),
        ({"platform_refund_id": "R-1"}, "platform_refund_id", "unknown field"),
    ],
)
def test_each_cancellation_refusal_names_the_field_and_a_reason(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    assert refusals(read_cancellation, {**cancellation(), **changes}) == {field: reason}


def test_every_problem_is_listed_unknown_fields_first() -> None:
    with pytest.raises(RefundRequestRefused) as caught:
        read_refund(
            {
                "zeta": 1,
                "account": "acme",
                "amazon_order_id": ORDER_ID,
                "reason": "why",
                "currency": "JPY",
                "lines": [
                    {"sku": "A", "amounts": {"item_price": "1.50", "tax": "-1", "x": 1}},
                    {"sku": "B"},
                    {"order_item_id": "C", "quantity": 0},
                ],
                "alpha": 2,
            }
        )
    fields = [e.field for e in caught.value.errors]
    assert fields == [
        "alpha",
        "zeta",
        "platform_refund_id",
        "reason",
        "lines[0].amounts.item_price",
        "lines[0].amounts.tax",
        "lines[0].amounts.x",
        "lines[1]",
        "lines[2].quantity",
    ]


def test_at_most_fifty_refusals_and_a_count_of_the_others() -> None:
    lines = [line(item_price="-1", tax="x") for _ in range(40)]
    with pytest.raises(RefundRequestRefused) as caught:
        read_refund(refund(lines=lines))
    errors = caught.value.errors
    assert len(errors) == 51
    assert errors[-1].field == "errors" and errors[-1].reason.startswith("30 more not listed")


def test_a_body_nested_too_deep_is_refused_as_a_whole_before_the_model() -> None:
    deep: Any = "x"
    for _ in range(40):
        deep = [deep]
    assert refusals(read_refund, refund(lines=deep)) == {"body": "nested deeper than 32 levels"}


@pytest.mark.parametrize("data", [["a list"], "text", 5, None])
def test_a_body_that_is_not_an_object_is_refused_as_a_whole(data: Any) -> None:
    assert refusals(read_refund, data) == {"body": "must be a JSON object"}
    assert refusals(read_cancellation, data) == {"body": "must be a JSON object"}
