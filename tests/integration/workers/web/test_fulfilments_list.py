"""``GET /v1/fulfilments`` on the real store: oldest first with a cursor, filtered by account,
Amazon order, state and when each was taken in, every refused parameter named in one 422; and
the CLI's ``fulfilments list`` reads the same listing with the same filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from domain.orders import AmazonOrder
from infra.db.tables import Fulfilment as FulfilmentRow
from tests.integration.infra.db.seed import seed_account
from tests.integration.workers.fulfilments import AUTH, RecordingSender, add_order, body, cli
from workers import bootstrap
from workers.doors.limits import ID_RANGE
from workers.web import create_app
from workers.web.fulfilments import confirmation_sender

pytestmark = pytest.mark.integration

STATES = "accepted, sending, confirmed, failed"
KNOWN = "account, amazon_order_id, state, created_since, created_until, after, limit"
LONG_AGO = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(container: bootstrap.Container, sender: RecordingSender) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[confirmation_sender] = lambda: sender
    with TestClient(app) as client:
        yield client


@pytest.fixture
def fulfilled(
    client: TestClient, container: bootstrap.Container, account_id: int
) -> list[AmazonOrder]:
    """Four fulfilments: F-0 .. F-2 of acme's three orders (F-0 taken in long ago, F-2 failed),
    and F-9 of another seller's order."""
    orders = [add_order(container, account_id, n) for n in (1, 2, 3)]
    other = seed_account(container.sessions, "globex")
    orders.append(add_order(container, other, 4))
    for n, order in zip((0, 1, 2, 9), orders, strict=True):
        account = "globex" if n == 9 else "acme"
        sent = body(order, account=account, platform_fulfilment_id=f"F-{n}")
        posted = client.post(
            "/v1/fulfilments", json=sent, headers={**AUTH, "Idempotency-Key": f"k-{n}"}
        )
        assert posted.status_code == 201, posted.text
    with container.engine.begin() as conn:
        conn.execute(
            update(FulfilmentRow)
            .where(FulfilmentRow.platform_fulfilment_id == "F-0")
            .values(accepted_at=LONG_AGO)
        )
        conn.execute(
            update(FulfilmentRow)
            .where(FulfilmentRow.platform_fulfilment_id == "F-2")
            .values(state="failed", failure_code="InvalidInput", failure_reason="bad")
        )
    return orders


def ids(client: TestClient, query: str) -> list[str]:
    response = client.get(f"/v1/fulfilments?{query}", headers=AUTH)
    assert response.status_code == 200, response.text
    return [f["platform_fulfilment_id"] for f in response.json()["fulfilments"]]


def reasons(response: Any) -> dict[str, str]:
    assert set(response.json()) == {"errors"}
    return {e["field"]: e["reason"] for e in response.json()["errors"]}


def test_the_listing_pages_oldest_first_with_a_cursor(
    client: TestClient, fulfilled: list[AmazonOrder]
) -> None:
    first = client.get("/v1/fulfilments?limit=3", headers=AUTH).json()
    assert [f["platform_fulfilment_id"] for f in first["fulfilments"]] == ["F-0", "F-1", "F-2"]
    assert first["fulfilments"][0]["lines"] == [
        {"order_item_id": fulfilled[0].lines[0].order_item_id, "sku": "MUG-RED", "quantity": 2}
    ]
    after = first["next_after"]
    assert after == first["fulfilments"][-1]["fulfilment_id"]
    second = client.get(f"/v1/fulfilments?limit=3&after={after}", headers=AUTH).json()
    assert [f["platform_fulfilment_id"] for f in second["fulfilments"]] == ["F-9"]
    assert second["next_after"] is None
    assert ids(client, "limit=4") == ["F-0", "F-1", "F-2", "F-9"]


def test_the_listing_filters_by_account_order_state_and_time_taken_in(
    client: TestClient, fulfilled: list[AmazonOrder], account_id: int
) -> None:
    assert ids(client, "account=acme") == ["F-0", "F-1", "F-2"]
    assert ids(client, f"account={account_id}") == ["F-0", "F-1", "F-2"]
    assert ids(client, "account=globex") == ["F-9"]
    assert ids(client, f"amazon_order_id={fulfilled[1].amazon_order_id}") == ["F-1"]
    assert ids(client, "state=failed") == ["F-2"]
    assert ids(client, "state=accepted&account=acme") == ["F-0", "F-1"]
    assert ids(client, "state=confirmed") == []
    assert ids(client, "created_until=2026-02-01") == ["F-0"]
    assert ids(client, "created_since=2026-01-05T12:00:00Z&created_until=2026-01-05T13:00Z") == [
        "F-0"
    ]
    assert ids(client, "created_since=2026-01-05T12:00:01%2B00:00") == ["F-1", "F-2", "F-9"]
    assert ids(client, "created_since=2026-02-01&state=accepted&account=acme") == ["F-1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=lost", {"state": f"'lost' is not a state: {STATES}"}),
        ("limit=0", {"limit": "must be a whole number from 1 to 200"}),
        ("limit=201", {"limit": "must be a whole number from 1 to 200"}),
        ("after=%C2%B2", {"after": f"must be an id from the last page: {ID_RANGE}"}),
        ("account=nobody", {"account": "no seller account 'nobody'"}),
        ("amazon_order_id=" + "1" * 41, {"amazon_order_id": "longer than 40 characters"}),
        (
            "created_since=yesterday",
            {"created_since": "'yesterday' is not an ISO 8601 time: such as 2026-11-28T09:00:00Z"},
        ),
        (
            "created_until=1999-12-31",
            {"created_until": "'1999-12-31' must lie between 2000-01-01 and 2100-01-01 (UTC)"},
        ),
        (
            "created_since=2026-02-01&created_until=2026-01-01",
            {"created_until": "must be later than created_since"},
        ),
        ("order=113-1", {"order": f"unknown parameter (known: {KNOWN})"}),
        ("state=failed&state=accepted", {"state": "given more than once"}),
        (
            "limit=0&state=x&created_since=2026-13-01&since=1",
            {
                "since": f"unknown parameter (known: {KNOWN})",
                "limit": "must be a whole number from 1 to 200",
                "state": f"'x' is not a state: {STATES}",
                "created_since": "'2026-13-01' is not an ISO 8601 time: such as "
                "2026-11-28T09:00:00Z",
            },
        ),
    ],
)
def test_the_listings_parameters_are_refused_by_name_all_at_once(
    client: TestClient, query: str, expected: dict[str, str], account_id: int
) -> None:
    response = client.get(f"/v1/fulfilments?{query}", headers=AUTH)
    assert response.status_code == 422, response.text
    assert reasons(response) == expected


def test_the_cli_lists_with_the_same_filters_and_cursor(
    fulfilled: list[AmazonOrder], cli_env: dict[str, str]
) -> None:
    listed = cli(cli_env, "fulfilments", "list", "--account", "acme", "--limit", "2")
    assert listed.exit_code == 0, listed.output
    assert "F-0" in listed.output and "F-1" in listed.output and "F-2" not in listed.output
    more = listed.output.strip().splitlines()[-1]
    assert more.startswith("more: --after ")
    rest = cli(cli_env, "fulfilments", "list", "--account", "acme", *more[len("more: ") :].split())
    assert rest.exit_code == 0, rest.output
    assert "F-2" in rest.output and "F-1" not in rest.output and "more:" not in rest.output
    failed = cli(cli_env, "fulfilments", "list", "--failed")
    assert "F-2" in failed.output and "InvalidInput: bad" in failed.output
    since = cli(cli_env, "fulfilments", "list", "--since", "2026-02-01", "--state", "accepted")
    assert "F-1" in since.output and "F-9" in since.output and "F-0" not in since.output
    refused = cli(cli_env, "fulfilments", "list", "--state", "lost", "--until", "soon")
    assert refused.exit_code == 2
    assert "state: 'lost' is not a state" in refused.output
    assert "created_until: 'soon' is not an ISO 8601 time" in refused.output
