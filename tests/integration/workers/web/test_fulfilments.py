"""The HTTP door of fulfilment intake on the real store (FastAPI's TestClient on
``create_app()``): its OpenAPI document, its bearer tokens, idempotency, and every validation
rule with its field and reason (the queue and the CLI read the same model and give the same)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.orders import AmazonOrder, FulfilledBy, OrderStatus
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.db.tables import IdempotencyKey
from tests.integration.infra.db.seed import amazon_order
from tests.integration.workers.fulfilments import (
    AUTH,
    TOKEN,
    RecordingSender,
    add_order,
    body,
    count,
)
from workers import bootstrap
from workers.doors.fulfilments import FulfilmentRequest
from workers.web import create_app
from workers.web.app import api_router
from workers.web.fulfilments import confirmation_sender

pytestmark = pytest.mark.integration


@pytest.fixture
def client(container: bootstrap.Container, sender: RecordingSender) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[confirmation_sender] = lambda: sender
    with TestClient(app) as client:
        yield client


def post(client: TestClient, data: Any, key: str = "key-1", **headers: str) -> Any:
    return client.post(
        "/v1/fulfilments", json=data, headers={**AUTH, "Idempotency-Key": key, **headers}
    )


def reasons(response: Any) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in response.json()["errors"]}


# --- HTTP: the door, its docs, its auth -------------------------------------------------------


def test_the_openapi_schema_documents_the_fulfilments_endpoint(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/v1/fulfilments"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "tracking_number" in body_schema["required"]
    assert {p["name"] for p in operation["parameters"]} == {"Idempotency-Key"}
    assert {"201", "200", "401", "409", "422"} <= set(operation["responses"])
    assert "/v1/fulfilments/{fulfilment_id}" in schema["paths"]
    assert client.get("/docs").status_code == 200


def test_the_openapi_body_is_the_door_model_with_its_definitions_inlined(
    client: TestClient,
) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/fulfilments"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(body_schema["properties"]) == set(FulfilmentRequest.model_fields)
    assert body_schema["additionalProperties"] is False
    line = body_schema["properties"]["lines"]["anyOf"][0]["items"]
    assert line["required"] == ["quantity"] and line["additionalProperties"] is False
    assert "$ref" not in json.dumps(body_schema)  # nothing left pointing at "#/$defs/..."
    assert operation["security"] == [{"HTTPBearer": []}]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
)
def test_without_a_valid_bearer_token_the_api_answers_401(
    client: TestClient, order: AmazonOrder, headers: dict[str, str]
) -> None:
    response = client.post(
        "/v1/fulfilments", json=body(order), headers={"Idempotency-Key": "k", **headers}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert reasons(response) == {"Authorization": "a valid bearer token is required"}
    assert client.get("/v1/fulfilments/1", headers=headers).status_code == 401


def test_a_route_added_to_the_api_router_is_protected_without_asking(
    container: bootstrap.Container,
) -> None:
    api = api_router()

    @api.get("/throwaway")
    def throwaway() -> dict[str, str]:  # declares no dependency of its own
        return {"secret": "yes"}

    app = create_app()
    app.include_router(api)
    with TestClient(app) as client:
        refused = client.get("/v1/throwaway")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json() == {
            "errors": [{"field": "Authorization", "reason": "a valid bearer token is required"}]
        }
        assert client.get("/v1/throwaway", headers=AUTH).json() == {"secret": "yes"}


def test_the_token_is_checked_before_the_path_or_the_body(client: TestClient) -> None:
    assert client.get("/v1/fulfilments/not-a-number").status_code == 401
    response = client.post(
        "/v1/fulfilments",
        content=b"{not json",
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert response.status_code == 401


def test_an_older_token_still_in_the_list_is_accepted(
    client: TestClient, order: AmazonOrder
) -> None:
    response = client.post(
        "/v1/fulfilments",
        json=body(order),
        headers={"Authorization": "Bearer old-token", "Idempotency-Key": "k"},
    )
    assert response.status_code == 201


def test_an_idempotency_key_is_required(client: TestClient, order: AmazonOrder) -> None:
    response = client.post("/v1/fulfilments", json=body(order), headers=AUTH)
    assert response.status_code == 422
    assert "required header" in reasons(response)["Idempotency-Key"]


# --- HTTP: idempotency ----------------------------------------------------------------------


def test_a_request_replayed_three_times_makes_one_fulfilment_and_the_same_answer(
    client: TestClient, order: AmazonOrder, container: bootstrap.Container, sender: RecordingSender
) -> None:
    first = post(client, body(order))
    replays = [post(client, body(order)) for _ in range(3)]
    assert first.status_code == 201
    assert first.json()["state"] == "accepted"
    assert first.json()["lines"] == [
        {"order_item_id": "0000001-A", "sku": "MUG-RED", "quantity": 2}
    ]
    assert first.json()["buyer_notified_by"] == "amazon"
    for replay in replays:
        assert (replay.status_code, replay.json()) == (201, first.json())
        assert replay.headers["Idempotent-Replayed"] == "true"
    assert count(container.engine, FulfilmentRow) == 1
    assert count(container.engine, IdempotencyKey) == 1
    assert [name for name, _ in sender.sent] == ["fulfil.confirm"]  # one confirmation queued


def test_the_same_key_with_another_body_is_a_conflict(
    client: TestClient, order: AmazonOrder
) -> None:
    assert post(client, body(order)).status_code == 201
    response = post(client, body(order, tracking_number="OTHER"))
    assert response.status_code == 409
    assert reasons(response) == {"Idempotency-Key": "already used with a different body"}


def test_the_same_fulfilment_under_a_new_key_answers_with_the_first_one(
    client: TestClient, order: AmazonOrder, sender: RecordingSender
) -> None:
    first = post(client, body(order))
    again = post(client, body(order), key="key-2")
    assert again.status_code == 200
    assert again.json()["fulfilment_id"] == first.json()["fulfilment_id"]
    assert len(sender.sent) == 1


def test_a_platform_fulfilment_id_used_for_another_body_is_a_conflict(
    client: TestClient, order: AmazonOrder
) -> None:
    post(client, body(order))
    response = post(client, body(order, tracking_number="OTHER"), key="key-2")
    assert response.status_code == 409
    assert "already used by fulfilment" in reasons(response)["platform_fulfilment_id"]


def test_a_refused_request_frees_its_key_for_the_corrected_one(
    client: TestClient, order: AmazonOrder
) -> None:
    assert post(client, body(order, carrier_code="Pony")).status_code == 422
    assert post(client, body(order, carrier_code="Pony", carrier_name="Pony")).status_code == 201


# --- HTTP: every validation rule ------------------------------------------------------------


def test_an_unknown_account_or_order_is_refused(client: TestClient, order: AmazonOrder) -> None:
    response = post(client, body(order, account="nobody"))
    assert response.status_code == 422
    assert reasons(response) == {"account": "no seller account 'nobody'"}
    unknown = post(client, body(order, amazon_order_id="113-9999999-9999999"), key="k2")
    assert reasons(unknown)["amazon_order_id"].startswith("unknown order")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"fulfilled_by": FulfilledBy.AMAZON}, "fulfilled by Amazon: it cannot be fulfilled here"),
        ({"status": OrderStatus.CANCELLED}, "the order is cancelled on Amazon"),
    ],
)
def test_an_order_that_cannot_be_fulfilled_here_is_refused(
    client: TestClient,
    container: bootstrap.Container,
    account_id: int,
    changes: dict[str, Any],
    reason: str,
) -> None:
    order = add_order(container, account_id, 2, **changes)
    response = post(client, body(order))
    assert response.status_code == 422
    assert reasons(response) == {"amazon_order_id": reason}


def test_more_than_remains_unshipped_is_refused_counting_accepted_fulfilments(
    client: TestClient, order: AmazonOrder
) -> None:
    assert post(client, body(order)).status_code == 201
    second = post(client, body(order, platform_fulfilment_id="F-2"), key="key-2")
    assert second.status_code == 422
    assert reasons(second) == {
        "lines[0].quantity": "more than remains unshipped: 2 asked, 1 of 3 remain "
        "(0 shipped, 2 in earlier fulfilments)"
    }
    rest = post(client, body(order, platform_fulfilment_id="F-3", lines=[]), key="key-3")
    assert rest.status_code == 201
    assert [(ln["order_item_id"], ln["quantity"]) for ln in rest.json()["lines"]] == [
        ("0000001-A", 1),
        ("0000001-B", 1),
    ]


def test_a_buyers_cancellation_request_blocks_until_reviewed(
    client: TestClient, container: bootstrap.Container, account_id: int
) -> None:
    base = amazon_order(3)
    order = add_order(
        container,
        account_id,
        3,
        lines=(replace(base.lines[0], cancel_requested=True, cancel_reason="NO_LONGER_NEEDED"),),
    )
    refused = post(client, body(order))
    assert refused.status_code == 422
    assert (
        "the buyer asked to cancel this order (NO_LONGER_NEEDED)"
        in reasons(refused)["cancellation_request_reviewed"]
    )
    reviewed = post(client, body(order, cancellation_request_reviewed=True), key="key-2")
    assert reviewed.status_code == 201


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"carrier_code": "Pony Express"}, "carrier_code", "not a carrier code Amazon knows"),
        ({"carrier_code": "Other"}, "carrier_name", "required when carrier_code is 'Other'"),
        ({"tracking_number": None}, "tracking_number", "required"),
        ({"tracking_number": "  "}, "tracking_number", "required"),
        ({"shipped_at": "2026-11-01T10:00:00"}, "shipped_at", "has no time zone"),
        ({"shipped_at": "yesterday"}, "shipped_at", "is not an ISO 8601 time"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku", "no item of this order"),
        ({"lines": [{"sku": "MUG-RED", "quantity": 0}]}, "lines[0].quantity", "at least 1"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_a_malformed_fulfilment_is_refused_with_the_field_and_reason(
    client: TestClient, order: AmazonOrder, changes: dict[str, Any], field: str, reason: str
) -> None:
    response = post(client, body(order, **changes))
    assert response.status_code == 422
    assert reason in reasons(response)[field]


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"lines": [{"sku": "MUG-RED", "quantity": "2"}]}, "lines[0].quantity", "at least 1"),
        ({"lines": [{"sku": "MUG-RED", "quantity": True}]}, "lines[0].quantity", "at least 1"),
        ({"lines": [{"sku": "MUG-RED", "quantity": 1.0}]}, "lines[0].quantity", "at least 1"),
        ({"cancellation_request_reviewed": 1}, "cancellation_request_reviewed", "true or false"),
        ({"account": True}, "account", "must be a string"),
        ({"tracking_number": 12345}, "tracking_number", "must be a string"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused_not_converted(
    client: TestClient, order: AmazonOrder, changes: dict[str, Any], field: str, reason: str
) -> None:
    response = post(client, body(order, **changes))
    assert response.status_code == 422
    assert reason in reasons(response)[field]


def test_every_problem_of_a_request_is_listed_at_once(
    client: TestClient, order: AmazonOrder
) -> None:
    response = post(
        client,
        body(
            order,
            platform_fulfilment_id=" ",
            shipped_at="2026-11-01T10:00:00",
            carrier_code="Pony",
            tracking_number=None,
            lines=[{"sku": "MUG-RED", "quantity": 0}, {"order_item_id": "A", "sku": "B"}, "x"],
            colour="red",
        ),
    )
    assert response.status_code == 422
    assert reasons(response) == {
        "colour": "unknown field",
        "platform_fulfilment_id": "required",
        "shipped_at": "'2026-11-01T10:00:00' has no time zone (add Z or +hh:mm)",
        "carrier_code": "'Pony' is not a carrier code Amazon knows: use one of Amazon's codes "
        "(UPS, USPS, FedEx, DHL, Royal Mail ...), or give carrier_name too "
        "(it goes to Amazon as 'Other' with that name)",
        "tracking_number": "required: the carrier's tracking number",
        "lines[0].quantity": "must be a whole number of at least 1",
        "lines[1]": "name the item by order_item_id or by sku (one)",
        "lines[2]": "must be an object {order_item_id or sku, quantity}",
    }


def test_a_body_that_is_not_an_object_is_refused(client: TestClient) -> None:
    response = post(client, ["not", "an", "object"])
    assert response.status_code == 422
    assert reasons(response) == {"body": "must be a JSON object"}


def test_the_account_may_be_given_by_its_id(
    client: TestClient, order: AmazonOrder, account_id: int
) -> None:
    response = post(client, body(order, account=account_id))
    assert response.status_code == 201
    assert response.json()["account_id"] == account_id


def test_a_ship_time_in_the_future_or_before_the_purchase_is_refused(
    client: TestClient, order: AmazonOrder
) -> None:
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert reasons(post(client, body(order, shipped_at=future))) == {
        "shipped_at": "is in the future"
    }
    early = (order.purchased_at - timedelta(minutes=1)).isoformat()
    response = post(client, body(order, shipped_at=early), key="key-2")
    assert "before the order was purchased" in reasons(response)["shipped_at"]


def test_a_body_that_is_not_json_is_refused(client: TestClient, order: AmazonOrder) -> None:
    response = client.post(
        "/v1/fulfilments",
        content=b"{not json",
        headers={**AUTH, "Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert reasons(response) == {"body": "not valid JSON"}


# --- HTTP: state and urgency ------------------------------------------------------------------


def test_a_fulfilment_can_be_read_back_with_its_state(
    client: TestClient, order: AmazonOrder
) -> None:
    created = post(client, body(order)).json()
    found = client.get(f"/v1/fulfilments/{created['fulfilment_id']}", headers=AUTH)
    assert found.status_code == 200 and found.json() == created
    missing = client.get("/v1/fulfilments/999999", headers=AUTH)
    assert missing.status_code == 404


def test_the_confirmation_of_an_urgent_order_is_queued_first(
    client: TestClient, container: bootstrap.Container, account_id: int, sender: RecordingSender
) -> None:
    now = datetime.now(UTC)
    relaxed = add_order(container, account_id, 4, ship_by_latest=now + timedelta(days=4))
    urgent = add_order(container, account_id, 5, ship_by_latest=now + timedelta(hours=1))
    post(client, body(relaxed))
    post(client, body(urgent, platform_fulfilment_id="F-2"), key="key-2")
    priorities = [options["priority"] for _, options in sender.sent]
    assert priorities == [9, 0]  # Redis serves 0 first
