"""The refund and cancellation queue messages (the requests with their envelope, one queue for
both, the type saying which), their generated JSON Schemas agreeing with the models, and the
same command from the CLI's options as from an HTTP body."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from domain.refunds import FIELD_NAMES, RefundKind
from tests.unit.workers.doors.refund_requests import (
    ORDER_ID,
    TYPES,
    cancellation,
    line,
    refund,
    refusals,
)
from workers.cli.refunds import cancellation_request, refund_request
from workers.doors.refunds import (
    CancellationMessage,
    CancellationRequest,
    RefundAmounts,
    RefundMessage,
    RefundRequest,
    RefundRequestRefused,
    kind_of,
    message_schema,
    read_cancellation,
    read_cancellation_message,
    read_message,
    read_refund,
    read_refund_message,
)

# --- the queue's messages -------------------------------------------------------------------


def refund_message(**changes: Any) -> dict[str, Any]:
    return {"version": 1, "type": "refund.requested", **refund(**changes)}


def cancellation_message(**changes: Any) -> dict[str, Any]:
    return {"version": 1, "type": "cancellation.requested", **cancellation(**changes)}


def test_the_messages_are_the_requests_with_their_envelope() -> None:
    assert read_refund_message(refund_message()) == read_refund(refund())
    assert read_message(refund_message()) == read_refund(refund())
    assert read_message(cancellation_message()) == read_cancellation(cancellation())
    assert read_cancellation_message(cancellation_message()) == read_cancellation(cancellation())
    for message_model, request_model in (
        (RefundMessage, RefundRequest),
        (CancellationMessage, CancellationRequest),
    ):
        assert set(message_model.model_fields) == {*request_model.model_fields, "version", "type"}


def test_the_type_says_which_kind_and_a_message_of_no_known_type_is_read_by_its_ids() -> None:
    assert kind_of(refund_message()) is RefundKind.REFUND
    assert kind_of(cancellation_message()) is RefundKind.CANCELLATION
    assert kind_of({"type": "x", "platform_cancellation_id": "C"}) is RefundKind.CANCELLATION
    assert kind_of({"type": "x", "platform_refund_id": "R"}) is RefundKind.REFUND
    assert kind_of(["no", "object"]) is RefundKind.REFUND
    found = refusals(read_message, {**cancellation_message(), "type": "order.cancel"})
    assert found == {"type": TYPES}


@pytest.mark.parametrize(
    ("envelope", "field", "reason"),
    [
        ({"version": 2}, "version", "2 is not a version this channel reads (1)"),
        ({"version": True}, "version", "True is not a version this channel reads (1)"),
        ({"version": "1"}, "version", "'1' is not a version this channel reads (1)"),
        ({"type": "fulfilment.requested"}, "type", TYPES),
        ({"type": None}, "type", TYPES),
    ],
)
def test_the_envelope_is_refused_naming_what_the_channel_reads(
    envelope: dict[str, Any], field: str, reason: str
) -> None:
    assert refusals(read_message, {**refund_message(), **envelope}) == {field: reason}


def test_a_message_without_its_envelope_is_refused_for_both() -> None:
    assert refusals(read_refund_message, refund()) == {
        "version": "required: the message format's version (1)",
        "type": TYPES,
    }
    assert refusals(read_message, ["not", "a", "message"]) == {"message": "must be a JSON object"}


def test_a_cancellation_type_read_as_a_refund_is_refused() -> None:
    found = refusals(read_refund_message, {**refund_message(), "type": "cancellation.requested"})
    assert found == {"type": TYPES}


# --- the JSON Schemas -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(RefundKind))
def test_the_messages_json_schema_is_generated_valid_and_plain_json(kind: RefundKind) -> None:
    schema = message_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == f"{kind.value}.requested, version 1"
    assert schema["properties"]["version"]["const"] == 1
    assert schema["properties"]["type"]["const"] == f"{kind.value}.requested"
    assert schema["additionalProperties"] is False
    json.dumps(schema)


def test_the_schemas_require_what_the_models_require() -> None:
    common = {"version", "type", "account", "amazon_order_id", "reason"}
    assert set(message_schema("refund")["required"]) == {*common, "platform_refund_id", "lines"}
    assert set(message_schema("cancellation")["required"]) == {
        *common,
        "platform_cancellation_id",
    }
    amounts = message_schema("refund")["$defs"]["RefundAmounts"]
    assert set(amounts["properties"]) == set(FIELD_NAMES) == set(RefundAmounts.model_fields)


GOOD_REFUNDS = [
    refund_message(),
    refund_message(account=7, currency="USD", lines=[{"sku": "A", "quantity": 2}]),
    refund_message(lines=[line(item_price=Decimal("19.99"), tax=1, restocking_fee="2.00")]),
]
GOOD_CANCELLATIONS = [
    cancellation_message(),
    cancellation_message(lines=[{"sku": "A"}, {"order_item_id": "B", "quantity": 1}]),
    cancellation_message(refund_amount="5.00", currency="GBP"),
]


@pytest.mark.parametrize("good", GOOD_REFUNDS + GOOD_CANCELLATIONS)
def test_what_the_model_takes_the_schema_takes(good: dict[str, Any]) -> None:
    jsonschema.validate(good, message_schema(kind_of(good)))
    read_message(good)


@pytest.mark.parametrize(
    "bad",
    [
        refund_message(version=2),
        refund_message(colour="red"),
        refund_message(reason=None),
        refund_message(lines=[]),
        refund_message(lines=[{"sku": "A", "order_item_id": "B", "quantity": 1}]),
        refund_message(lines=[{"sku": "A"}]),
        refund_message(lines=[{"sku": "A", "quantity": 1, "amounts": {"tax": "1"}}]),
        refund_message(lines=[{"sku": "A", "quantity": "1"}]),
        refund_message(lines=[line(item_price="-1")]),
        refund_message(lines=[line(item_price="1e3")]),
        refund_message(lines=[line(item_price=-2)]),
        refund_message(lines=[line(colour="1")]),
        refund_message(lines=[line()]),
        refund_message(currency="dollars"),
        cancellation_message(lines=[{"quantity": 1}]),
        cancellation_message(lines=[{"sku": "A", "quantity": 0}]),
        cancellation_message(refund_amount="abc"),
    ],
)
def test_what_the_schema_refuses_the_model_refuses_too(bad: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, message_schema(kind_of(bad)))
    with pytest.raises(RefundRequestRefused):
        read_message(bad)


# --- one command, whichever door ------------------------------------------------------------


def test_the_cli_and_http_build_the_same_refund() -> None:
    from_cli = refund_request(
        account="acme",
        order=ORDER_ID,
        platform_refund_id="R-1",
        reason="customer_return",
        currency=None,
        lines=("order_item_id=ITEM-A,item_price=19.99,tax=1.60", "sku=MUG-RED,quantity=2"),
    )
    http_body = json.loads(
        json.dumps(
            refund(
                lines=[
                    {"order_item_id": "ITEM-A", "amounts": {"item_price": 19.99, "tax": 1.6}},
                    {"sku": "MUG-RED", "quantity": 2},
                ]
            )
        ),
        parse_float=Decimal,
    )
    command = read_refund(from_cli)
    assert command == read_refund(http_body)
    assert command.fingerprint() == read_refund(http_body).fingerprint()
    assert read_message({"version": 1, "type": "refund.requested", **http_body}) == command


def test_the_cli_and_http_build_the_same_cancellation() -> None:
    from_cli = cancellation_request(
        account="acme",
        order=ORDER_ID,
        platform_cancellation_id="C-1",
        reason="buyer_canceled",
        refund_amount="5.00",
        currency="USD",
        lines=("sku=MUG-RED,quantity=1", "order_item_id=ITEM-B"),
    )
    body = cancellation(
        lines=[{"sku": "MUG-RED", "quantity": 1}, {"order_item_id": "ITEM-B"}],
        refund_amount=Decimal("5"),
        currency="USD",
    )
    assert read_cancellation(from_cli).fingerprint() == read_cancellation(body).fingerprint()


def test_the_cli_refuses_its_options_with_the_same_reasons() -> None:
    from_cli = refund_request(
        account=None,
        order=ORDER_ID,
        platform_refund_id="R-1",
        reason="customer_return",
        currency="JPY",
        lines=("sku=A,item_price=1.50,colour=red", "sku=B,quantity=x"),
    )
    assert refusals(read_refund, from_cli) == {
        "account": "required: the seller account",
        "lines[0].colour": "unknown field",
        "lines[0].amounts.item_price": "must be a whole amount (JPY), with no decimal places",
        "lines[1].quantity": "must be a whole number of at least 1",
    }
