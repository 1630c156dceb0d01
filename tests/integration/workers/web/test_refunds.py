"""The HTTP doors of refunds and cancellations on the real store (FastAPI's TestClient on
``create_app()``): their OpenAPI document, bearer tokens, idempotency, amounts as decimals,
every kind of refusal with its field and reason (the model's and the rules'), the batcher's
flush after the commit, and the cursor listing with its parameters checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.orders import AmazonOrder
from infra.db.tables import IdempotencyKey
from infra.db.tables import Refund as RefundRow
from infra.db.tables import RefundLine as RefundLineRow
from tests.integration.workers.fulfilments import AUTH, RecordingSender, count
from tests.integration.workers.refunds import (
    add_charged_order,
    cancellation_body,
    refund_body,
)
from workers import bootstrap
from workers.doors.limits import ID_RANGE
from workers.doors.refunds import CancellationRequest, RefundRequest
from workers.web import create_app
from workers.web.refunds import flush_sender

pytestmark = pytest.mark.integration

STATES = "held, awaiting_approval, accepted, in_feed, confirmed, failed"


@pytest.fixture
def client(container: bootstrap.Container, sender: RecordingSender) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[flush_sender] = lambda: sender
    with TestClient(app) as client:
        yield client


def post(client: TestClient, path: str, data: Any, key: str = "key-1") -> Any:
    content = data if isinstance(data, str | bytes) else json.dumps(data)
    headers = {**AUTH, "Idempotency-Key": key, "Content-Type": "application/json"}
    return client.post(path, content=content, headers=headers)


def reasons(response: Any) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in response.json()["errors"]}


def flushes(sender: RecordingSender) -> list[list[Any]]:
    return [options["args"] for name, options in sender.sent if name == "refund.flush"]


# --- the document and the token -------------------------------------------------------------


def test_the_openapi_document_has_both_doors_with_the_models_bodies(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, model in (("/v1/refunds", RefundRequest), ("/v1/cancellations", CancellationRequest)):
        operation = paths[path]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert set(body["properties"]) == set(model.model_fields)
        assert "$ref" not in json.dumps(body)
        assert {"201", "200", "401", "409", "413", "422"} <= set(operation["responses"])
        assert {p["name"] for p in operation["parameters"]} == {"Idempotency-Key"}
        listing = paths[path]["get"]
        assert {p["name"] for p in listing["parameters"]} == {
            "account",
            "amazon_order_id",
            "state",
            "after",
            "limit",
        }
        assert listing["security"] == [{"HTTPBearer": []}]
    assert "/v1/refunds/{refund_id}" in paths and "/v1/cancellations/{cancellation_id}" in paths


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/refunds"),
        ("get", "/v1/refunds/1"),
        ("get", "/v1/refunds"),
        ("post", "/v1/cancellations"),
        ("get", "/v1/cancellations/1"),
        ("get", "/v1/cancellations?state=nonsense"),
    ],
)
def test_every_route_wants_a_bearer_token(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers={"Idempotency-Key": "k"})
    assert response.status_code == 401
    assert reasons(response) == {"Authorization": "a valid bearer token is required"}


# --- a refund in ----------------------------------------------------------------------------


def test_a_refund_is_accepted_shown_and_its_flush_queued_after_the_commit(
    client: TestClient, charged: AmazonOrder, sender: RecordingSender, account_id: int
) -> None:
    response = post(client, "/v1/refunds", refund_body(charged))
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["kind"] == "refund" and out["state"] == "accepted" and out["source"] == "store"
    assert (out["platform_refund_id"], out["reason"], out["currency"]) == (
        "R-1",
        "CustomerReturn",
        "USD",
    )
    (line,) = out["lines"]
    assert line["amounts"]["item_price"] == "9.99" and line["amounts"]["tax"] == "0.80"
    assert line["amounts"]["goodwill"] == "0.00"
    assert (line["total"], out["total"]) == ("10.79", "10.79")
    assert out["buyer_notified_by"] == "amazon" and out["failure"] is None
    assert flushes(sender) == [[account_id]]
    shown = client.get(f"/v1/refunds/{out['refund_id']}", headers=AUTH)
    assert shown.status_code == 200 and shown.json() == out


def test_the_same_key_replays_and_the_same_refund_under_another_key_is_the_first(
    client: TestClient, charged: AmazonOrder, sender: RecordingSender, container: Any
) -> None:
    first = post(client, "/v1/refunds", refund_body(charged))
    replay = post(client, "/v1/refunds", refund_body(charged))
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (201, "true")
    assert replay.json() == first.json()
    again = post(client, "/v1/refunds", refund_body(charged), key="key-2")
    assert again.status_code == 200 and again.json()["refund_id"] == first.json()["refund_id"]
    assert count(container.engine, RefundRow) == 1
    assert len(flushes(sender)) == 1  # only the first accept queues the batcher


def test_a_number_is_read_as_a_decimal_and_spelled_the_same_is_the_same_body(
    client: TestClient, charged: AmazonOrder
) -> None:
    item = charged.lines[0].order_item_id
    body = refund_body(charged, lines=[{"order_item_id": item, "amounts": {"tax": "TAX"}}])
    # The amounts as JSON numbers, as the platform may write them.
    as_numbers = json.dumps(body).replace('"TAX"', '0.8, "item_price": 9.99')
    first = post(client, "/v1/refunds", as_numbers)
    assert first.status_code == 201, first.text
    assert first.json()["lines"][0]["amounts"]["tax"] == "0.80"
    same = post(client, "/v1/refunds", refund_body(charged), key="key-2")
    assert same.status_code == 200
    floaty = as_numbers.replace("9.99", "0.30000000000000004").replace("R-1", "R-2")
    refused = post(client, "/v1/refunds", floaty, key="key-3")
    assert refused.status_code == 422
    assert reasons(refused) == {"lines[0].amounts.item_price": "at most 2 decimal places"}


def test_a_refused_request_keeps_no_key_and_can_be_sent_again_fixed(
    client: TestClient, charged: AmazonOrder, container: Any
) -> None:
    bad = post(client, "/v1/refunds", refund_body(charged, reason="because"))
    assert bad.status_code == 422 and "reason" in reasons(bad)
    assert count(container.engine, IdempotencyKey) == 0
    fixed = post(client, "/v1/refunds", refund_body(charged))
    assert fixed.status_code == 201


def test_the_key_with_another_body_and_a_taken_platform_id_are_conflicts(
    client: TestClient, charged: AmazonOrder
) -> None:
    assert post(client, "/v1/refunds", refund_body(charged)).status_code == 201
    other = refund_body(charged, reason="goodwill")
    mismatch = post(client, "/v1/refunds", other)
    assert mismatch.status_code == 409
    assert reasons(mismatch) == {"Idempotency-Key": "already used with a different body"}
    taken = post(client, "/v1/refunds", other, key="key-2")
    assert taken.status_code == 409 and "platform_refund_id" in reasons(taken)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "required header: 1 to 200 characters"),
        ({"Idempotency-Key": " "}, "required header: 1 to 200 characters"),
        ({"Idempotency-Key": "k" * 201}, "required header: 1 to 200 characters"),
        (
            {"Idempotency-Key": "a\tb"},
            "must not contain control characters (U+0009 at character 2)",
        ),
    ],
)
def test_the_idempotency_key_is_required_and_checked(
    client: TestClient, charged: AmazonOrder, headers: dict[str, str], reason: str
) -> None:
    response = client.post("/v1/refunds", json=refund_body(charged), headers={**AUTH, **headers})
    assert response.status_code == 422
    assert reasons(response) == {"Idempotency-Key": reason}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"a": NaN}', "not valid JSON"),
        ("[" * 40 + "]" * 40, "nested deeper than 32 levels"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 32 levels"),
        ('"a string"', "must be a JSON object"),
    ],
)
def test_a_body_that_is_no_request_is_refused_as_a_whole(
    client: TestClient, content: str, reason: str
) -> None:
    response = post(client, "/v1/refunds", content)
    assert response.status_code == 422
    assert reasons(response) == {"body": reason}


def test_a_body_over_the_cap_is_413(client: TestClient, charged: AmazonOrder) -> None:
    big = refund_body(charged, platform_refund_id="R" * (1024 * 1024 + 1))
    assert post(client, "/v1/refunds", big).status_code == 413


def test_every_refusal_of_the_model_is_listed_with_its_path(
    client: TestClient, charged: AmazonOrder, container: Any
) -> None:
    body = refund_body(
        charged,
        colour="red",
        reason=None,
        currency="usd ",
        lines=[
            {"sku": "MUG-RED", "amounts": {"item_price": "1.999", "tax": -1, "x": "1"}},
            {"sku": "MUG-BLUE"},
            {"order_item_id": "A", "sku": "B", "quantity": 1},
        ],
    )
    response = post(client, "/v1/refunds", body)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "colour", "reason": "unknown field"},
        {
            "field": "reason",
            "reason": "required: why the refund is made (customer_return, goodwill, ...)",
        },
        {"field": "lines[0].amounts.item_price", "reason": "at most 2 decimal places (USD)"},
        {"field": "lines[0].amounts.tax", "reason": "must not be negative"},
        {"field": "lines[0].amounts.x", "reason": "unknown field"},
        {"field": "lines[1]", "reason": "give amounts or a quantity (one)"},
        {"field": "lines[2]", "reason": "name the item by order_item_id or by sku (one)"},
    ]
    assert count(container.engine, RefundRow) == 0


def test_the_rules_refusals_name_their_fields(
    client: TestClient, charged: AmazonOrder, container: Any, account_id: int
) -> None:
    item_a, item_b = (line.order_item_id for line in charged.lines)
    cases = [
        (refund_body(charged, account="nobody"), {"account": "no seller account 'nobody'"}),
        (refund_body(charged, amazon_order_id="113-0000404-0000001"), {"amazon_order_id"}),
        (refund_body(charged, currency="EUR"), {"currency": "the order is in USD, not EUR"}),
        (
            refund_body(charged, lines=[{"order_item_id": "NOPE", "quantity": 1}]),
            {"lines[0].order_item_id"},
        ),
        (
            refund_body(
                charged, lines=[{"order_item_id": item_b, "amounts": {"item_price": "5.01"}}]
            ),
            {"lines[0].amounts.item_price"},
        ),
        (
            refund_body(charged, lines=[{"sku": "MUG-RED", "quantity": 4}]),
            {"lines[0].quantity"},
        ),
        (
            refund_body(
                charged,
                lines=[
                    {"order_item_id": item_a, "quantity": 1},
                    {"order_item_id": item_a, "quantity": 1},
                ],
            ),
            {"lines[1]"},
        ),
    ]
    for n, (body, expected) in enumerate(cases):
        response = post(client, "/v1/refunds", body, key=f"rule-{n}")
        assert response.status_code == 422, (body, response.text)
        found = reasons(response)
        if isinstance(expected, dict):
            assert found == expected
        else:
            assert set(found) == expected, found
    assert count(container.engine, RefundRow) == 0
    assert count(container.engine, IdempotencyKey) == 0


def test_refunds_of_one_line_never_give_back_more_than_it_charged(
    client: TestClient, charged: AmazonOrder, container: Any
) -> None:
    item_b = charged.lines[1].order_item_id
    amounts = {"order_item_id": item_b, "amounts": {"item_price": "3.00"}}
    assert post(client, "/v1/refunds", refund_body(charged, lines=[amounts])).status_code == 201
    second = refund_body(charged, platform_refund_id="R-2", lines=[amounts])
    over = post(client, "/v1/refunds", second, key="key-2")
    assert over.status_code == 422 and set(reasons(over)) == {"lines[0].amounts.item_price"}
    assert count(container.engine, RefundLineRow) == 1


# --- a cancellation in ----------------------------------------------------------------------


def test_a_cancellation_is_accepted_with_what_the_units_charged(
    client: TestClient, charged: AmazonOrder, sender: RecordingSender, account_id: int
) -> None:
    response = post(client, "/v1/cancellations", cancellation_body(charged))
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["kind"] == "cancellation" and out["whole_order"] is False
    assert (out["platform_cancellation_id"], out["reason"]) == ("C-1", "BuyerCanceled")
    assert out["total"] == "5.40"
    assert flushes(sender) == [[account_id]]
    cancellation_id = out["cancellation_id"]
    assert client.get(f"/v1/cancellations/{cancellation_id}", headers=AUTH).json() == out
    wrong_kind = client.get(f"/v1/refunds/{cancellation_id}", headers=AUTH)
    assert wrong_kind.status_code == 404
    assert reasons(wrong_kind) == {
        "refund_id": f"no refund {cancellation_id}: it is a cancellation "
        f"(/v1/cancellations/{cancellation_id})"
    }


def test_a_whole_order_cancellation_and_the_cancellations_refusals(
    client: TestClient, charged: AmazonOrder
) -> None:
    whole = post(client, "/v1/cancellations", cancellation_body(charged, lines=None))
    assert whole.status_code == 201, whole.text
    assert whole.json()["whole_order"] is True and whole.json()["total"] == "43.16"
    bad = post(
        client,
        "/v1/cancellations",
        cancellation_body(
            charged, platform_cancellation_id="C-2", reason="x", refund_amount="0", lines=[{}]
        ),
        key="key-2",
    )
    assert bad.status_code == 422
    # The rules speak too (every reason at once): the whole order is cancelled already.
    assert set(reasons(bad)) == {"reason", "refund_amount", "lines[0]", "amazon_order_id"}
    again = cancellation_body(charged, platform_cancellation_id="C-3")
    twice = post(client, "/v1/cancellations", again, key="key-3")
    assert twice.status_code == 422 and set(reasons(twice)) == {"amazon_order_id"}


def test_a_cancellations_refund_is_what_the_units_charged(
    client: TestClient, charged: AmazonOrder
) -> None:
    other = cancellation_body(charged, refund_amount="1.00")
    wrong_amount = post(client, "/v1/cancellations", other)
    assert wrong_amount.status_code == 422 and set(reasons(wrong_amount)) == {"refund_amount"}
    right = post(client, "/v1/cancellations", cancellation_body(charged, refund_amount="5.40"))
    assert right.status_code == 201 and right.json()["total"] == "5.40"


# --- reading back ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/v1/refunds/999", 404, "refund_id"),
        ("/v1/cancellations/999", 404, "cancellation_id"),
        ("/v1/refunds/abc", 422, "refund_id"),
        ("/v1/refunds/²", 422, "refund_id"),
        (f"/v1/refunds/{2**63}", 422, "refund_id"),
        ("/v1/cancellations/0", 422, "cancellation_id"),
    ],
)
def test_a_path_holds_an_id_of_the_kind(
    client: TestClient, path: str, status: int, field: str
) -> None:
    response = client.get(path, headers=AUTH)
    assert response.status_code == status
    assert set(reasons(response)) == {field}


def test_the_listing_pages_oldest_first_with_a_cursor_and_filters(
    client: TestClient, charged: AmazonOrder, container: Any, account_id: int
) -> None:
    other = add_charged_order(container, account_id, 2)
    item = charged.lines[0].order_item_id
    for n in range(3):
        body = refund_body(
            charged,
            platform_refund_id=f"R-{n}",
            lines=[{"order_item_id": item, "amounts": {"item_price": "1.00"}}],
        )
        assert post(client, "/v1/refunds", body, key=f"k-{n}").status_code == 201
    other_refund = refund_body(other, platform_refund_id="R-9")
    assert post(client, "/v1/refunds", other_refund, key="k-o").status_code == 201
    assert post(client, "/v1/cancellations", cancellation_body(charged)).status_code == 201

    first = client.get("/v1/refunds?limit=2", headers=AUTH).json()
    assert [r["platform_refund_id"] for r in first["refunds"]] == ["R-0", "R-1"]
    after = first["next_after"]
    second = client.get(f"/v1/refunds?limit=2&after={after}", headers=AUTH).json()
    assert [r["platform_refund_id"] for r in second["refunds"]] == ["R-2", "R-9"]
    assert second["next_after"] is None
    by_order = client.get(
        f"/v1/refunds?amazon_order_id={other.amazon_order_id}&account={account_id}", headers=AUTH
    ).json()
    assert [r["amazon_order_id"] for r in by_order["refunds"]] == [other.amazon_order_id]
    assert client.get("/v1/refunds?state=confirmed", headers=AUTH).json()["refunds"] == []
    cancellations = client.get("/v1/cancellations?account=acme", headers=AUTH).json()
    assert [c["platform_cancellation_id"] for c in cancellations["cancellations"]] == ["C-1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "state=lost",
            {"state": f"'lost' is not a state: {STATES}"},
        ),
        ("limit=0", {"limit": "must be a whole number from 1 to 200"}),
        ("limit=201", {"limit": "must be a whole number from 1 to 200"}),
        ("limit=ten", {"limit": "must be a whole number from 1 to 200"}),
        (
            "after=%C2%B2",
            {"after": f"must be an id from the last page: {ID_RANGE}"},
        ),
        ("account=nobody", {"account": "no seller account 'nobody'"}),
        (
            "account=a%00b",
            {"account": "must not contain control characters (U+0000 at character 2)"},
        ),
        ("amazon_order_id=" + "1" * 41, {"amazon_order_id": "longer than 40 characters"}),
        (
            "order=113-1",
            {"order": "unknown parameter (known: account, amazon_order_id, state, after, limit)"},
        ),
        ("state=held&state=failed", {"state": "given more than once"}),
        (
            "limit=0&state=x",
            {
                "limit": "must be a whole number from 1 to 200",
                "state": f"'x' is not a state: {STATES}",
            },
        ),
    ],
)
def test_the_listings_parameters_are_refused_by_name(
    client: TestClient, query: str, expected: dict[str, str], account_id: int
) -> None:
    for path in ("/v1/refunds", "/v1/cancellations"):
        response = client.get(f"{path}?{query}", headers=AUTH)
        assert response.status_code == 422, response.text
        assert reasons(response) == expected
