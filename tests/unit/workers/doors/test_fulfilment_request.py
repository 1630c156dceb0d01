"""The one fulfilment request model: the command it makes, every refusal with its field and
reason, strict JSON types, the message's generated JSON Schema, and the same command from the
CLI's options as from an HTTP body."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from domain.fulfilments import InvalidRequest, LineRequest, RequestFulfilment
from workers.cli.fulfilments import fulfilment_request
from workers.doors.fulfilments import (
    FulfilmentMessage,
    FulfilmentRequest,
    message_schema,
    read_message,
    read_request,
)

ORDER_ID = "113-0000001-0000001"
CARRIER_UNKNOWN = (
    "'Pony Express' is not a carrier code Amazon knows: use one of Amazon's codes "
    "(UPS, USPS, FedEx, DHL, Royal Mail ...), or give carrier_name too "
    "(it goes to Amazon as 'Other' with that name)"
)


def request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_fulfilment_id": "F-1",
        "shipped_at": "2026-11-01T11:30:00+01:00",
        "carrier_code": "ups",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"order_item_id": "ITEM-A", "quantity": 1}],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def message(**changes: Any) -> dict[str, Any]:
    return {"version": 1, "type": "fulfilment.requested", **request(**changes)}


def refusals(data: Any) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        read_request(data)
    found = {e.field: e.reason for e in caught.value.errors}
    assert len(found) == len(caught.value.errors), "one reason per field"
    return found


# --- the command ----------------------------------------------------------------------------


def test_a_request_becomes_the_command_in_utc_with_amazons_spelling_of_the_carrier() -> None:
    command = read_request(
        request(
            account="  acme ",
            carrier_name=" ",
            shipping_method=" Ground ",
            lines=[{"sku": "MUG-RED", "quantity": 2}, {"order_item_id": " ITEM-A ", "quantity": 1}],
        )
    )
    assert command == RequestFulfilment(
        account="acme",
        amazon_order_id=ORDER_ID,
        platform_fulfilment_id="F-1",
        shipped_at=datetime(2026, 11, 1, 10, 30, tzinfo=UTC),
        carrier_code="UPS",
        carrier_name=None,
        shipping_method="Ground",
        tracking_number="1Z999AA10123456784",
        lines=(LineRequest(2, sku="MUG-RED"), LineRequest(1, order_item_id="ITEM-A")),
        cancellation_request_reviewed=False,
    )
    assert command.shipped_at.tzinfo is UTC


def test_a_carrier_amazon_does_not_know_goes_as_other_with_its_name() -> None:
    command = read_request(request(carrier_code="Pony Express", carrier_name="Pony Express"))
    assert (command.carrier_code, command.carrier_name) == ("Other", "Pony Express")
    assert read_request(request(carrier_code="royal  mail")).carrier_code == "Royal Mail"


def test_an_account_may_be_given_by_its_id_and_no_lines_mean_all_that_remains() -> None:
    command = read_request(request(account=7, lines=None, cancellation_request_reviewed=True))
    assert (command.account, command.lines) == ("7", ())
    assert command.cancellation_request_reviewed is True
    assert read_request(request(lines=[])).lines == ()


def test_equal_requests_have_equal_fingerprints_however_they_are_spelled() -> None:
    one = read_request(request(carrier_code="UPS", shipped_at="2026-11-01T10:30:00Z"))
    two = read_request(request(carrier_code="ups", shipped_at="2026-11-01T11:30:00+01:00"))
    assert one.fingerprint() == two.fingerprint()
    assert one.fingerprint() != read_request(request(tracking_number="OTHER")).fingerprint()


# --- every refusal --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"colour": "red"}, "colour", "unknown field"),
        ({"account": None}, "account", "required: the seller account"),
        ({"account": "  "}, "account", "required: the seller account"),
        ({"account": True}, "account", "must be a string"),
        ({"account": 1.5}, "account", "must be a string"),
        ({"account": "a" * 101}, "account", "longer than 100 characters"),
        ({"amazon_order_id": None}, "amazon_order_id", "required"),
        ({"amazon_order_id": "1" * 41}, "amazon_order_id", "longer than 40 characters"),
        ({"amazon_order_id": 113}, "amazon_order_id", "must be a string"),
        ({"platform_fulfilment_id": ""}, "platform_fulfilment_id", "required"),
        ({"shipped_at": None}, "shipped_at", "required: an ISO 8601 time with its zone"),
        ({"shipped_at": "  "}, "shipped_at", "required: an ISO 8601 time with its zone"),
        ({"shipped_at": 1767225600}, "shipped_at", "required: an ISO 8601 time with its zone"),
        ({"shipped_at": "yesterday"}, "shipped_at", "'yesterday' is not an ISO 8601 time"),
        (
            {"shipped_at": "2026-11-01T10:00:00"},
            "shipped_at",
            "'2026-11-01T10:00:00' has no time zone (add Z or +hh:mm)",
        ),
        ({"carrier_code": None}, "carrier_code", "required: Amazon's carrier code, or 'Other'"),
        ({"carrier_code": "C" * 61}, "carrier_code", "longer than 60 characters"),
        ({"carrier_code": "Pony Express"}, "carrier_code", CARRIER_UNKNOWN),
        ({"carrier_code": "other"}, "carrier_name", "required when carrier_code is 'Other'"),
        ({"carrier_name": "N" * 101}, "carrier_name", "longer than 100 characters"),
        ({"carrier_name": 5}, "carrier_name", "must be a string"),
        ({"shipping_method": ["Ground"]}, "shipping_method", "must be a string"),
        ({"tracking_number": None}, "tracking_number", "required: the carrier's tracking number"),
        ({"tracking_number": " "}, "tracking_number", "required: the carrier's tracking number"),
        ({"lines": "all"}, "lines", "must be a list of {order_item_id or sku, quantity}"),
        ({"lines": {"sku": "X"}}, "lines", "must be a list of {order_item_id or sku, quantity}"),
        ({"lines": ["X"]}, "lines[0]", "must be an object {order_item_id or sku, quantity}"),
        (
            {"lines": [{"quantity": 1}]},
            "lines[0]",
            "name the item by order_item_id or by sku (one)",
        ),
        (
            {"lines": [{"sku": "A", "order_item_id": "B", "quantity": 1}]},
            "lines[0]",
            "name the item by order_item_id or by sku (one)",
        ),
        ({"lines": [{"sku": " ", "quantity": 1}]}, "lines[0].sku", "must be a non-empty string"),
        ({"lines": [{"sku": 5, "quantity": 1}]}, "lines[0].sku", "must be a non-empty string"),
        (
            {"lines": [{"order_item_id": "I" * 101, "quantity": 1}]},
            "lines[0].order_item_id",
            "must be a non-empty string",
        ),
        ({"lines": [{"sku": "A"}]}, "lines[0].quantity", "must be a whole number of at least 1"),
        (
            {"lines": [{"sku": "A", "quantity": 0}]},
            "lines[0].quantity",
            "must be a whole number of at least 1",
        ),
        (
            {"lines": [{"sku": "A", "quantity": 1, "colour": "red"}]},
            "lines[0].colour",
            "unknown field",
        ),
        (
            {"cancellation_request_reviewed": None},
            "cancellation_request_reviewed",
            "must be true or false",
        ),
    ],
)
def test_each_refusal_names_the_field_and_a_reason_a_person_can_act_on(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    assert refusals({**request(), **changes}) == {field: reason}  # None is sent as null


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("account", "required: the seller account"),
        ("amazon_order_id", "required"),
        ("platform_fulfilment_id", "required"),
        ("shipped_at", "required: an ISO 8601 time with its zone"),
        ("carrier_code", "required: Amazon's carrier code, or 'Other'"),
        ("tracking_number", "required: the carrier's tracking number"),
    ],
)
def test_a_missing_field_reads_as_a_null_one(field: str, reason: str) -> None:
    assert refusals(request(**{field: None})) == {field: reason}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lines": [{"sku": "A", "quantity": "5"}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "A", "quantity": True}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "A", "quantity": 2.0}]}, "lines[0].quantity"),
        ({"cancellation_request_reviewed": 1}, "cancellation_request_reviewed"),
        ({"cancellation_request_reviewed": "true"}, "cancellation_request_reviewed"),
        ({"account": False}, "account"),
    ],
)
def test_json_types_are_strict_nothing_is_converted(changes: dict[str, Any], field: str) -> None:
    assert set(refusals(request(**changes))) == {field}


def test_every_problem_is_listed_unknown_fields_first() -> None:
    with pytest.raises(InvalidRequest) as caught:
        read_request(
            {
                "zeta": 1,
                "account": "acme",
                "amazon_order_id": ORDER_ID,
                "shipped_at": "2026-11-01T10:00:00",
                "carrier_code": "Pony Express",
                "lines": [{"quantity": 0, "sku": "X"}, {"order_item_id": "A", "sku": "B"}],
                "colour": "red",
            }
        )
    assert [(e.field, e.reason) for e in caught.value.errors] == [
        ("colour", "unknown field"),
        ("zeta", "unknown field"),
        ("platform_fulfilment_id", "required"),
        ("shipped_at", "'2026-11-01T10:00:00' has no time zone (add Z or +hh:mm)"),
        ("carrier_code", CARRIER_UNKNOWN),
        ("tracking_number", "required: the carrier's tracking number"),
        ("lines[0].quantity", "must be a whole number of at least 1"),
        ("lines[1]", "name the item by order_item_id or by sku (one)"),
    ]


@pytest.mark.parametrize("data", [["a list"], "text", 5, None])
def test_a_body_that_is_not_an_object_is_refused_as_a_whole(data: Any) -> None:
    assert refusals(data) == {"body": "must be a JSON object"}


# --- the queue's message ----------------------------------------------------------------------


def test_the_message_is_the_request_with_its_envelope() -> None:
    assert read_message(message()) == read_request(request())
    assert set(FulfilmentMessage.model_fields) == {
        *FulfilmentRequest.model_fields,
        "version",
        "type",
    }


@pytest.mark.parametrize(
    ("envelope", "field", "reason"),
    [
        ({"version": 2}, "version", "2 is not a version this channel reads (1)"),
        ({"version": True}, "version", "True is not a version this channel reads (1)"),
        ({"version": "1"}, "version", "'1' is not a version this channel reads (1)"),
        ({"version": None}, "version", "None is not a version this channel reads (1)"),
        ({"type": "refund.requested"}, "type", "must be 'fulfilment.requested'"),
        ({"type": None}, "type", "must be 'fulfilment.requested'"),
    ],
)
def test_the_envelope_is_refused_naming_what_the_channel_reads(
    envelope: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        read_message({**message(), **envelope})
    assert {(e.field, e.reason) for e in caught.value.errors} == {(field, reason)}


def test_a_message_without_its_envelope_is_refused_for_both() -> None:
    with pytest.raises(InvalidRequest) as caught:
        read_message(request())
    assert {e.field: e.reason for e in caught.value.errors} == {
        "version": "required: the message format's version (1)",
        "type": "must be 'fulfilment.requested'",
    }
    with pytest.raises(InvalidRequest) as caught:
        read_message(["not", "a", "message"])
    assert [(e.field, e.reason) for e in caught.value.errors] == [
        ("message", "must be a JSON object")
    ]


# --- the JSON Schema ------------------------------------------------------------------------


def test_the_messages_json_schema_is_generated_valid_and_agrees_with_the_model() -> None:
    schema = message_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "fulfilment.requested, version 1"
    assert schema["properties"]["version"]["const"] == 1
    assert schema["properties"]["type"]["const"] == "fulfilment.requested"
    assert set(schema["required"]) == {
        *("version", "type", "account", "amazon_order_id", "platform_fulfilment_id"),
        *("shipped_at", "carrier_code", "tracking_number"),
    }
    assert schema["additionalProperties"] is False
    json.dumps(schema)  # plain JSON, for the platform's producers
    for good in (
        message(),
        message(account=7, lines=[{"sku": "MUG-RED", "quantity": 2}]),
        message(lines=None, carrier_name="Pony", carrier_code="Pony"),
    ):
        jsonschema.validate(good, schema)
        read_message(good)


@pytest.mark.parametrize(
    "bad",
    [
        message(version=2),
        message(colour="red"),
        message(tracking_number=None),
        message(lines=[{"sku": "A", "order_item_id": "B", "quantity": 1}]),
        message(lines=[{"quantity": 1}]),
        message(lines=[{"sku": "A", "quantity": 0}]),
        message(lines=[{"sku": "A", "quantity": "1"}]),
        message(cancellation_request_reviewed="yes"),
    ],
)
def test_what_the_schema_refuses_the_model_refuses_too(bad: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, message_schema())
    with pytest.raises(InvalidRequest):
        read_message(bad)


# --- one command, whichever door ------------------------------------------------------------


def test_the_cli_and_http_build_the_same_command() -> None:
    from_cli = fulfilment_request(
        "acme",
        ORDER_ID,
        platform_fulfilment_id="F-1",
        shipped_at="2026-11-01T11:30:00+01:00",
        carrier_code="ups",
        carrier_name=None,
        shipping_method="Ground",
        tracking_number="1Z999AA10123456784",
        items=("ITEM-A=1",),
        skus=("MUG-RED=2",),
        cancellation_request_reviewed=False,
    )
    http_body = json.dumps(
        {
            "account": "acme",
            "amazon_order_id": ORDER_ID,
            "platform_fulfilment_id": "F-1",
            "shipped_at": "2026-11-01T10:30:00Z",
            "carrier_code": "UPS",
            "shipping_method": "Ground",
            "tracking_number": "1Z999AA10123456784",
            "lines": [
                {"order_item_id": "ITEM-A", "quantity": 1},
                {"sku": "MUG-RED", "quantity": 2},
            ],
        }
    )
    cli_command = read_request(from_cli)
    http_command = read_request(json.loads(http_body))
    assert cli_command == http_command
    assert cli_command.fingerprint() == http_command.fingerprint()
    queued = read_message({"version": 1, "type": "fulfilment.requested", **json.loads(http_body)})
    assert queued == http_command


def test_the_cli_refuses_its_options_with_the_same_reasons() -> None:
    from_cli = fulfilment_request(
        "acme",
        ORDER_ID,
        platform_fulfilment_id="F-1",
        shipped_at="2026-11-01T10:00:00",
        carrier_code="Pony Express",
        carrier_name=None,
        shipping_method=None,
        tracking_number="T",
        items=(),
        skus=("MUG-RED=0",),
        cancellation_request_reviewed=False,
    )
    assert refusals(from_cli) == {
        "shipped_at": "'2026-11-01T10:00:00' has no time zone (add Z or +hh:mm)",
        "carrier_code": CARRIER_UNKNOWN,
        "lines[0].quantity": "must be a whole number of at least 1",
    }
