"""The HTTP routes of a seller account's connection on the real store (FastAPI's TestClient on
``create_app()``): disconnecting holds what the platform asks, the reconnect plan is the CLI's
plan and changes nothing, reconnecting makes every held refund wait for approval, approvals
approve, reject and refuse by id with reasons; each run twice is one effect, and every bad path
or body is refused naming its field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.ingestion import Cursor
from domain.orders import AmazonOrder, OrderStatus
from domain.refunds import RefundState
from domain.refunds.reconnect import NOT_SYNCED
from infra.db.accounts import get_account, set_connected
from tests.integration.workers.fulfilments import AUTH, RecordingSender, body, cli
from tests.integration.workers.refunds import add_charged_order, cancellation_body, refund_body
from workers import bootstrap
from workers.web import create_app
from workers.web.accounts import NOTHING_ASKED, REQUIRED, ApprovalRequest
from workers.web.fulfilments import confirmation_sender
from workers.web.refunds import flush_sender

pytestmark = pytest.mark.integration

BIGINT_PAST = 2**63
REFUND_ID = "must be a refund id: a whole number from 1 to 9223372036854775807"
ACCOUNT_ID = "an account id is a whole number from 1 to 9223372036854775807, in the digits 0-9"
WATERMARK = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SHIPPED_REASON = "has shipped: refunding it gives money back for goods the buyer has"


@pytest.fixture
def client(container: bootstrap.Container, sender: RecordingSender) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[flush_sender] = lambda: sender
    app.dependency_overrides[confirmation_sender] = lambda: sender
    with TestClient(app) as client:
        yield client


def reasons(response: Any) -> dict[str, str]:
    found = response.json()
    assert set(found) == {"errors"}, found
    return {e["field"]: e["reason"] for e in found["errors"]}


def flushes(sender: RecordingSender) -> list[list[Any]]:
    return [options["args"] for name, options in sender.sent if name == "refund.flush"]


def post(client: TestClient, path: str, data: Any = None, key: str | None = None) -> Any:
    headers = {**AUTH, "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    if data is None:
        return client.post(path, headers=headers)
    content = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(path, content=content, headers=headers)


def ship(container: bootstrap.Container, account_id: int, order: AmazonOrder, *skus: str) -> None:
    """The sync catches up an order whose lines ``skus`` shipped (from Seller Central)."""
    lines = tuple(
        replace(line, quantity_shipped=line.quantity_ordered) if line.sku in skus else line
        for line in order.lines
    )
    everything = all(line.quantity_shipped == line.quantity_ordered for line in lines)
    shipped = replace(
        order,
        lines=lines,
        status=OrderStatus.SHIPPED if everything else OrderStatus.PARTIALLY_SHIPPED,
        last_updated_at=datetime.now(UTC).replace(microsecond=0),
    )
    container.ingestion_store.save_page(
        account_id, "orders", [shipped], [], Cursor(watermark=WATERMARK)
    )


def sync_catches_up(container: bootstrap.Container, account_id: int) -> None:
    """The sync reads Amazon's changes up to after the reconnect (nothing new on the orders)."""
    container.ingestion_store.save_page(
        account_id, "orders", [], [], Cursor(watermark=datetime.now(UTC))
    )


@pytest.fixture
def held(client: TestClient, container: bootstrap.Container, account_id: int) -> dict[str, int]:
    """While the account is disconnected: a refund of an order that stays unshipped (safe), a
    refund of one that ships meanwhile (needs approval), a cancellation of units that ship
    meanwhile (cannot), and a fulfilment waiting."""
    assert post(client, "/v1/accounts/acme/disconnect").status_code == 200
    orders = {n: add_charged_order(container, account_id, n) for n in (1, 2, 3)}
    ids = {}
    for name, path, data in (
        ("safe", "/v1/refunds", refund_body(orders[1], platform_refund_id="R-1")),
        ("shipped", "/v1/refunds", refund_body(orders[2], platform_refund_id="R-2")),
        (
            "cannot",
            "/v1/cancellations",
            cancellation_body(orders[3], platform_cancellation_id="C-3"),
        ),
    ):
        response = post(client, path, data, key=name)
        assert response.status_code == 201, response.text
        assert response.json()["state"] == "held"
        ids[name] = response.json().get("refund_id") or response.json()["cancellation_id"]
    fulfilment = post(client, "/v1/fulfilments", body(orders[1]), key="fulfilment")
    assert fulfilment.status_code == 201, fulfilment.text
    ship(container, account_id, orders[2], "MUG-RED", "MUG-BLUE")
    ship(container, account_id, orders[3], "MUG-BLUE")
    return ids


def states(container: bootstrap.Container, ids: dict[str, int]) -> dict[str, RefundState]:
    found = {}
    for name, refund_id in ids.items():
        refund = container.refund_store.get(refund_id)
        assert refund is not None
        found[name] = refund.state
    return found


def verdicts(plan: dict[str, Any]) -> dict[int, str]:
    return {item["refund_id"]: item["verdict"] for item in plan["items"]}


# --- the document and the token -------------------------------------------------------------

ROUTES = [
    ("post", "/v1/accounts/{account}/disconnect"),
    ("get", "/v1/accounts/{account}/reconnect-plan"),
    ("post", "/v1/accounts/{account}/reconnect"),
    ("post", "/v1/accounts/{account}/approvals"),
    ("post", "/v1/accounts/{account}/disable"),
    ("post", "/v1/accounts/{account}/enable"),
]
# A body each route takes (the others read none).
GOOD_BODY = {
    "/v1/accounts/{account}/reconnect": {"approve_safe": True},
    "/v1/accounts/{account}/approvals": {"all_safe": True},
}


def call(client: TestClient, method: str, path: str, account: str, **headers: str) -> Any:
    return client.request(
        method, path.format(account=account), json=GOOD_BODY.get(path), headers=headers
    )


def test_the_openapi_document_has_every_route_with_its_bodies(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for method, path in ROUTES:
        operation = paths[path][method]
        assert operation["security"] == [{"HTTPBearer": []}]
        assert {p["name"] for p in operation["parameters"]} == {"account"}
        assert {"200", "401", "404", "422"} <= set(operation["responses"])
    approvals = paths["/v1/accounts/{account}/approvals"]["post"]
    schema = approvals["requestBody"]["content"]["application/json"]["schema"]
    assert approvals["requestBody"]["required"] is True
    assert set(schema["properties"]) == set(ApprovalRequest.model_fields)
    assert schema["properties"]["refund_ids"]["items"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }
    assert "$ref" not in json.dumps(schema) and "409" in approvals["responses"]
    reconnect = paths["/v1/accounts/{account}/reconnect"]["post"]
    assert reconnect["requestBody"]["required"] is False
    assert set(reconnect["requestBody"]["content"]["application/json"]["schema"]["properties"]) == {
        "approve_safe"
    }


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_wants_a_bearer_token(
    client: TestClient, account_id: int, method: str, path: str
) -> None:
    response = call(client, method, path, "acme")
    assert response.status_code == 401
    assert reasons(response) == {"Authorization": "a valid bearer token is required"}
    assert get_account(bootstrap.container().sessions, account_id).connected  # nothing changed


# --- disconnecting --------------------------------------------------------------------------


def test_disconnecting_twice_gives_the_same_answer_and_what_arrives_is_held(
    client: TestClient, account_id: int, charged: AmazonOrder, sender: RecordingSender
) -> None:
    first = post(client, "/v1/accounts/acme/disconnect")
    assert first.status_code == 200, first.text
    out = first.json()
    assert out["account_id"] == account_id and out["name"] == "acme"
    assert out["connected"] is False and out["disconnected_at"] is not None
    assert "refresh_token" not in json.dumps(out) and "Atzr" not in first.text
    again = post(client, f"/v1/accounts/{account_id}/disconnect")  # by id, the same account
    assert (again.status_code, again.json()) == (200, out)
    refund = post(client, "/v1/refunds", refund_body(charged), key="k")
    assert refund.status_code == 201 and refund.json()["state"] == "held"
    assert flushes(sender) == []  # nothing is sent while disconnected


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("account", ["nobody", "12345"])
def test_an_unknown_account_is_404_naming_it(
    client: TestClient, account_id: int, method: str, path: str, account: str
) -> None:
    response = call(client, method, path, account, **AUTH)
    assert response.status_code == 404
    assert reasons(response) == {"account": f"no seller account '{account}'"}


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        ("ac%00me", "must not contain control characters (U+0000 at character 3)"),
        ("ac%1Bme", "must not contain control characters (U+001B at character 3)"),
        ("%C2%B2", ACCOUNT_ID),  # a digit to Python, no id
        (str(BIGINT_PAST), ACCOUNT_ID),
        ("9" * 30, ACCOUNT_ID),
        ("a" * 101, "longer than 100 characters"),
        ("%20", "required: the seller account's name or id"),
    ],
)
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_path_account_the_store_cannot_hold_is_refused_naming_it(
    client: TestClient, account_id: int, method: str, path: str, account: str, reason: str
) -> None:
    response = call(client, method, path, account, **AUTH)
    assert response.status_code == 422, response.text
    assert reasons(response) == {"account": reason}
    assert get_account(bootstrap.container().sessions, account_id).connected


# --- the plan ---------------------------------------------------------------------------------


def test_the_plan_shows_each_held_item_with_its_verdict_and_changes_nothing(
    client: TestClient, container: bootstrap.Container, held: dict[str, int], account_id: int
) -> None:
    response = client.get("/v1/accounts/acme/reconnect-plan", headers=AUTH)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["account"]["connected"] is False and plan["account"]["account_id"] == account_id
    assert plan["fulfilments_waiting"] == 1
    assert plan["sync_from"] == "2024-05-01T12:00:00Z"
    items = {item["refund_id"]: item for item in plan["items"]}
    assert list(items) == sorted(items)  # oldest first
    safe, shipped, cannot = (items[held[name]] for name in ("safe", "shipped", "cannot"))
    assert safe == {
        "refund_id": held["safe"],
        "kind": "refund",
        "platform_id": "R-1",
        "amazon_order_id": "113-0000001-0000001",
        "total": "10.79",
        "currency": "USD",
        "state": "held",
        # Disconnected, the store cannot know whether the order shipped meanwhile.
        "verdict": "needs_approval",
        "reason": NOT_SYNCED,
    }
    assert shipped["verdict"] == "needs_approval" and SHIPPED_REASON in shipped["reason"]
    assert (cannot["kind"], cannot["platform_id"], cannot["total"]) == (
        "cancellation",
        "C-3",
        "5.40",
    )
    assert cannot["verdict"] == "cannot" and "0 unshipped unit(s) left" in cannot["reason"]
    again = client.get(f"/v1/accounts/{account_id}/reconnect-plan", headers=AUTH)
    assert again.json() == plan
    assert set(states(container, held).values()) == {RefundState.HELD}
    assert not get_account(container.sessions, account_id).connected


def test_the_plan_is_the_clis_plan(
    client: TestClient, held: dict[str, int], cli_env: dict[str, str]
) -> None:
    plan = client.get("/v1/accounts/acme/reconnect-plan", headers=AUTH).json()
    result = cli(cli_env, "accounts", "reconnect", "acme", "--plan")
    assert result.exit_code == 0, result.output
    assert (
        "fulfilments waiting: 1" in result.output and "2024-05-01T12:00:00+00:00" in result.output
    )
    rows = [re.split(r"\s{2,}", line.strip()) for line in result.output.splitlines()]
    shown = {row[0]: row for row in rows if row and row[0].isdigit()}
    assert shown == {
        str(item["refund_id"]): [
            str(item["refund_id"]),
            item["kind"],
            item["amazon_order_id"],
            f"{item['total']} {item['currency']}",
            item["state"],
            item["verdict"],
            item["reason"],
        ]
        for item in plan["items"]
    }


# --- reconnecting ---------------------------------------------------------------------------


def test_reconnecting_holds_every_refund_for_approval_and_twice_is_once(
    client: TestClient,
    container: bootstrap.Container,
    held: dict[str, int],
    sender: RecordingSender,
) -> None:
    first = post(client, "/v1/accounts/acme/reconnect")
    assert first.status_code == 200, first.text
    out = first.json()
    assert out["account"]["connected"] is True and out["approval"] is None
    assert {item["state"] for item in out["items"]} == {"awaiting_approval"}
    # Nothing is safe before the sync has caught up since the reconnect.
    assert verdicts(out) == {
        held["safe"]: "needs_approval",
        held["shipped"]: "needs_approval",
        held["cannot"]: "cannot",
    }
    assert set(states(container, held).values()) == {RefundState.AWAITING_APPROVAL}
    assert flushes(sender) == []  # none is sent by itself
    again = post(client, "/v1/accounts/acme/reconnect", {})
    assert (again.status_code, again.json()) == (200, out)
    sync_catches_up(container, out["account"]["account_id"])
    plan = client.get("/v1/accounts/acme/reconnect-plan", headers=AUTH).json()
    assert verdicts(plan) == {
        held["safe"]: "safe",
        held["shipped"]: "needs_approval",
        held["cannot"]: "cannot",
    }


def test_reconnecting_with_approve_safe_sends_only_the_safe_ones(
    client: TestClient,
    container: bootstrap.Container,
    held: dict[str, int],
    sender: RecordingSender,
) -> None:
    # Right after reconnecting the sync has not caught up: nothing is safe yet.
    early = post(client, "/v1/accounts/acme/reconnect", {"approve_safe": True})
    assert early.status_code == 200, early.text
    assert early.json()["approval"] == {"approved": [], "rejected": [], "refused": []}
    assert flushes(sender) == []
    sync_catches_up(container, early.json()["account"]["account_id"])
    response = post(client, "/v1/accounts/acme/reconnect", {"approve_safe": True})
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["approval"] == {"approved": [held["safe"]], "rejected": [], "refused": []}
    assert verdicts(out) == {held["shipped"]: "needs_approval", held["cannot"]: "cannot"}
    assert states(container, held) == {
        "safe": RefundState.ACCEPTED,
        "shipped": RefundState.AWAITING_APPROVAL,
        "cannot": RefundState.AWAITING_APPROVAL,
    }
    account_id = out["account"]["account_id"]
    assert flushes(sender) == [[account_id]]
    again = post(client, "/v1/accounts/acme/reconnect", {"approve_safe": True})
    assert again.json()["approval"] == {"approved": [], "rejected": [], "refused": []}
    assert again.json()["items"] == out["items"]
    assert flushes(sender) == [[account_id]]  # nothing new approved: no flush


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"approve_safe": "yes"}, "approve_safe", "must be true or false"),
        ({"approve_safe": 1}, "approve_safe", "must be true or false"),
        ({"approve": True}, "approve", "unknown field"),
        ([], "body", "must be a JSON object"),
        ("{not json", "body", "not valid JSON"),
    ],
)
def test_a_bad_reconnect_body_is_refused_and_nothing_changes(
    client: TestClient,
    container: bootstrap.Container,
    held: dict[str, int],
    data: Any,
    field: str,
    reason: str,
) -> None:
    response = post(client, "/v1/accounts/acme/reconnect", data)
    assert response.status_code == 422
    assert reasons(response) == {field: reason}
    assert not get_account(container.sessions, "acme").connected
    assert set(states(container, held).values()) == {RefundState.HELD}


# --- approvals --------------------------------------------------------------------------------


def test_approvals_approve_on_purpose_reject_and_refuse_with_reasons_and_twice_is_once(
    client: TestClient,
    container: bootstrap.Container,
    held: dict[str, int],
    sender: RecordingSender,
) -> None:
    reconnected = post(client, "/v1/accounts/acme/reconnect")
    assert reconnected.status_code == 200
    sync_catches_up(container, reconnected.json()["account"]["account_id"])
    safe = post(client, "/v1/accounts/acme/approvals", {"all_safe": True})
    assert safe.status_code == 200, safe.text
    assert safe.json() == {"approved": [held["safe"]], "rejected": [], "refused": []}
    asked = {"refund_ids": [held["shipped"], held["cannot"], 999], "reject_ids": [888]}
    done = post(client, "/v1/accounts/acme/approvals", asked).json()
    assert done["approved"] == [held["shipped"]] and done["rejected"] == []
    refused = {r["refund_id"]: r["reason"] for r in done["refused"]}
    assert refused[held["cannot"]].startswith("it can no longer be done: order item")
    assert refused[999] == refused[888] == "not held or awaiting approval for this account"
    rejected = post(client, "/v1/accounts/acme/approvals", {"reject_ids": [held["cannot"]]})
    assert rejected.json() == {"approved": [], "rejected": [held["cannot"]], "refused": []}
    cancellation = container.refund_store.get(held["cannot"])
    assert cancellation is not None and cancellation.state is RefundState.FAILED
    assert cancellation.failure_reason == "rejected by an operator after reconnecting"
    assert set(states(container, {k: held[k] for k in ("safe", "shipped")}).values()) == {
        RefundState.ACCEPTED
    }
    account_id = cancellation.account_id
    assert flushes(sender) == [[account_id], [account_id]]  # once per approval that moved
    # Sent again: nothing moves a second time, and each id says why.
    twice = post(client, "/v1/accounts/acme/approvals", {"reject_ids": [held["cannot"]]}).json()
    assert twice == {
        "approved": [],
        "rejected": [],
        "refused": [
            {
                "refund_id": held["cannot"],
                "reason": "not held or awaiting approval for this account",
            }
        ],
    }
    assert post(client, "/v1/accounts/acme/approvals", {"all_safe": True}).json()["approved"] == []
    assert len(flushes(sender)) == 2
    assert client.get("/v1/accounts/acme/reconnect-plan", headers=AUTH).json()["items"] == []


def test_approvals_on_a_disconnected_account_are_a_conflict_and_change_nothing(
    client: TestClient, container: bootstrap.Container, held: dict[str, int]
) -> None:
    response = post(
        client,
        "/v1/accounts/acme/approvals",
        {"all_safe": True, "refund_ids": [held["shipped"]], "reject_ids": [held["cannot"]]},
    )
    assert response.status_code == 409
    account_id = get_account(container.sessions, "acme").id
    assert reasons(response) == {
        "account": f"disconnected: reconnect it first (POST /v1/accounts/{account_id}/reconnect)"
    }
    assert set(states(container, held).values()) == {RefundState.HELD}


def test_a_rejection_of_one_still_held_is_named_never_dropped(
    client: TestClient, container: bootstrap.Container, held: dict[str, int]
) -> None:
    # Connected without the hold for approval (a reconnect cut short between its two steps).
    set_connected(container.sessions, "acme", True)
    response = post(client, "/v1/accounts/acme/approvals", {"reject_ids": [held["safe"]]})
    assert response.status_code == 200
    assert response.json()["refused"] == [
        {"refund_id": held["safe"], "reason": "still held: reconnect the account first"}
    ]
    assert states(container, held)["safe"] is RefundState.HELD


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (None, {"body": REQUIRED}),
        ({}, {"body": NOTHING_ASKED}),
        (
            {"refund_ids": [1, 0], "reject_ids": [-1]},
            {"refund_ids[1]": REFUND_ID, "reject_ids[0]": REFUND_ID},
        ),
        ({"refund_ids": [BIGINT_PAST]}, {"refund_ids[0]": REFUND_ID}),
        ({"all_safe": True, "colour": 1}, {"colour": "unknown field"}),
        (
            {"refund_ids": [5], "reject_ids": [5]},
            {"reject_ids[0]": "refund 5 is also in refund_ids: one or the other"},
        ),
        ('{"refund_ids": [NaN]}', {"body": "not valid JSON"}),
        ("[" * 100_000 + "]" * 100_000, {"body": "nested deeper than 32 levels"}),
    ],
)
def test_a_bad_approval_body_is_refused_naming_the_field_and_nothing_moves(
    client: TestClient,
    container: bootstrap.Container,
    held: dict[str, int],
    data: Any,
    errors: dict[str, str],
) -> None:
    assert post(client, "/v1/accounts/acme/reconnect").status_code == 200
    response = post(client, "/v1/accounts/acme/approvals", data)
    assert response.status_code == 422, response.text
    assert reasons(response) == errors
    assert set(states(container, held).values()) == {RefundState.AWAITING_APPROVAL}


def test_accounts_are_listed_with_their_status_and_can_be_disabled(
    client: TestClient, account_id: int
) -> None:
    listed = client.get("/v1/accounts", headers=AUTH)
    assert listed.status_code == 200
    assert [(a["account_id"], a["status"]) for a in listed.json()["accounts"]] == [
        (account_id, "active")
    ]
    disabled = post(client, f"/v1/accounts/{account_id}/disable")
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"
    assert post(client, f"/v1/accounts/{account_id}/disable").json()["status"] == "disabled"
    assert client.get("/v1/accounts", headers=AUTH).json()["accounts"][0]["status"] == "disabled"
    assert post(client, f"/v1/accounts/{account_id}/enable").json()["status"] == "active"
    missing = post(client, "/v1/accounts/nobody/enable")
    assert missing.status_code == 404
    assert reasons(missing) == {"account": "no seller account 'nobody'"}
