"""The three doors of fulfilment intake on the real store: the HTTP API (FastAPI's TestClient on
``create_app()``), the queue (a message through the real broker, taken in by ``fulfil.intake``
in-process) and the CLI (click's CliRunner). Every validation rule is checked through HTTP; the
queue and the CLI give the same reasons."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, update

from domain.ingestion import Cursor
from domain.orders import AmazonOrder, FulfilledBy, OrderStatus
from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.db.tables import IdempotencyKey, OutboxEvent, RejectedFulfilment
from infra.settings import Settings
from tests.integration.test_fulfilment_store import amazon_order, seed_account, seed_order
from workers import compose, producer
from workers.api import confirmation_sender
from workers.web import create_app

pytestmark = pytest.mark.integration

TOKEN = "platform-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class RecordingSender:
    """Celery's ``send_task`` as a list: what the broker would have received."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.sent.append((name, kwargs))
        return type("Result", (), {"id": f"task-{len(self.sent)}"})()


@pytest.fixture
def container(settings: Settings, clean_db: Engine) -> Iterator[compose.Container]:
    container = compose.use(settings.model_copy(update={"api_tokens": f"old-token, {TOKEN}"}))
    yield container
    compose.reset_and_close()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def client(container: compose.Container, sender: RecordingSender) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[confirmation_sender] = lambda: sender
    with TestClient(app) as client:
        yield client


@pytest.fixture
def account_id(container: compose.Container) -> int:
    return seed_account(container.sessions)


def add_order(container: compose.Container, account_id: int, n: int, **changes: Any) -> AmazonOrder:
    order = amazon_order(n, **changes)
    seed_order(container.engine, container.sessions, account_id, order)
    return order


@pytest.fixture
def order(container: compose.Container, account_id: int) -> AmazonOrder:
    return add_order(container, account_id, 1)


def body(order: AmazonOrder, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": order.amazon_order_id,
        "platform_fulfilment_id": "F-1",
        "shipped_at": (order.purchased_at + timedelta(hours=20)).isoformat(),
        "carrier_code": "UPS",
        "shipping_method": "Ground",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"sku": "MUG-RED", "quantity": 2}],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post(client: TestClient, data: Any, key: str = "key-1", **headers: str) -> Any:
    return client.post(
        "/v1/fulfilments", json=data, headers={**AUTH, "Idempotency-Key": key, **headers}
    )


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


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
    client: TestClient, order: AmazonOrder, container: compose.Container, sender: RecordingSender
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
    container: compose.Container,
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
    client: TestClient, container: compose.Container, account_id: int
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
    client: TestClient, container: compose.Container, account_id: int, sender: RecordingSender
) -> None:
    now = datetime.now(UTC)
    relaxed = add_order(container, account_id, 4, ship_by_latest=now + timedelta(days=4))
    urgent = add_order(container, account_id, 5, ship_by_latest=now + timedelta(hours=1))
    post(client, body(relaxed))
    post(client, body(urgent, platform_fulfilment_id="F-2"), key="key-2")
    priorities = [options["priority"] for _, options in sender.sent]
    assert priorities == [9, 0]  # Redis serves 0 first


# --- the queue --------------------------------------------------------------------------------


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    """The project's Celery app on this session's broker (its pool rebuilt for it)."""
    from workers.celery_app import app

    app.close()
    app.conf.broker_url = broker_url
    drain(app)
    yield app
    drain(app)
    app.close()


def drain(app: Any) -> list[tuple[dict[str, Any], Any]]:
    """Everything waiting on the fulfil queue: (headers, body), in the broker's order."""
    found = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(app.amqp.queues["fulfil"])  # declared as the workers do
        try:
            while True:
                try:
                    message = queue.get(timeout=0.5)
                except queue.Empty:
                    break
                found.append((dict(message.headers), message.payload))
                message.ack()
        finally:
            queue.close()
    return found


def test_the_broker_hands_out_the_most_urgent_confirmation_first(celery_app: Any) -> None:
    now = datetime.now(UTC)
    for fulfilment_id, ship_by in [
        (1, now + timedelta(days=5)),
        (2, None),
        (3, now + timedelta(hours=1)),
        (4, now + timedelta(hours=30)),
        (5, now + timedelta(hours=6)),
    ]:
        assert producer.enqueue_confirmation(fulfilment_id, ship_by, now=now, app=celery_app)
    queued = [args[0] for _headers, (args, _kwargs, _embed) in drain(celery_app)]
    assert queued == [3, 5, 4, 1, 2]  # ship-by within 2 h, 12 h, 48 h, later, unknown


def test_a_published_message_crosses_the_broker_and_is_taken_in_once(
    celery_app: Any, order: AmazonOrder, container: compose.Container
) -> None:
    from workers import tasks_fulfil

    message = body(order)
    producer.publish_fulfilment(message, app=celery_app)
    producer.publish_fulfilment(message, app=celery_app)  # the platform sent it twice
    delivered = drain(celery_app)
    assert [headers["task"] for headers, _ in delivered] == ["fulfil.intake"] * 2
    for _headers, (args, _kwargs, _embed) in delivered:
        (sent,) = args
        jsonschema.validate(sent, producer.MESSAGE_SCHEMA)
        assert sent == {"version": 1, "type": "fulfilment.requested", **message}
        result = tasks_fulfil.intake(sent)
        assert result["accepted"] is True
    assert count(container.engine, FulfilmentRow) == 1
    (confirm,) = drain(celery_app)  # one confirmation queued, for the one fulfilment
    headers, (args, _, _) = confirm
    assert headers["task"] == "fulfil.confirm" and args == [result["fulfilment_id"]]


def test_a_refused_message_is_recorded_with_a_failed_event(
    celery_app: Any, container: compose.Container, account_id: int
) -> None:
    from workers import tasks_fulfil

    fba = add_order(container, account_id, 6, fulfilled_by=FulfilledBy.AMAZON)
    message = {"version": 1, "type": "fulfilment.requested", **body(fba)}
    for _ in range(2):
        result = tasks_fulfil.intake(message)
        assert result == {
            "accepted": False,
            "reason": "amazon_order_id: fulfilled by Amazon: it cannot be fulfilled here",
        }
    assert count(container.engine, RejectedFulfilment) == 1
    with container.engine.connect() as conn:
        event = conn.execute(
            select(OutboxEvent).where(OutboxEvent.topic == "fulfilments/failed")
        ).one()
    assert event.aggregate_key == f"order:{account_id}:{fba.amazon_order_id}"
    assert event.payload["error"]["errors"] == [
        {"field": "amazon_order_id", "reason": "fulfilled by Amazon: it cannot be fulfilled here"}
    ]
    assert drain(celery_app) == []


# --- the CLI ----------------------------------------------------------------------------------


@pytest.fixture
def cli_env(database_url: str, redis_url: str, broker_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BROKER_URL": broker_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SHIP_BY_WARNING_HOURS": "24",
    }


def cli(env: dict[str, str], *args: str) -> Any:
    from workers.cli import main

    return CliRunner().invoke(main, list(args), env=env)


def test_the_cli_accepts_a_fulfilment_and_explains_a_refusal(
    celery_app: Any, order: AmazonOrder, cli_env: dict[str, str], clean_db: Engine
) -> None:
    shipped = (order.purchased_at + timedelta(hours=3)).isoformat()
    fulfil = ["fulfil", "acme", order.amazon_order_id, "--id", "F-9", "--shipped-at", shipped]
    refused = cli(cli_env, *fulfil, "--carrier", "Pony", "--tracking", "P1", "--sku", "MUG-RED=1")
    assert refused.exit_code == 2
    assert "error: carrier_code: 'Pony' is not a carrier code Amazon knows" in refused.output
    good = [*fulfil, "--carrier", "UPS", "--tracking", "1Z1", "--item", "0000001-A=1"]
    accepted = cli(cli_env, *good)
    assert accepted.exit_code == 0, accepted.output
    assert "accepted fulfilment 1 (package 1)" in accepted.output
    again = cli(cli_env, *good)
    assert again.exit_code == 0 and "already accepted as fulfilment 1" in again.output
    assert count(clean_db, FulfilmentRow) == 1
    assert [h["task"] for h, _ in drain(celery_app)] == ["fulfil.confirm"]


def test_the_cli_lists_failed_fulfilments_with_the_reason_and_retries_them(
    celery_app: Any,
    order: AmazonOrder,
    cli_env: dict[str, str],
    container: compose.Container,
) -> None:
    result = producer.submit_fulfilment(body(order), app=celery_app)
    fulfilment_id = result.fulfilment.id  # type: ignore[union-attr]
    store = producer.fulfilment_store()
    store.claim(fulfilment_id, "w1", timedelta(minutes=6))
    store.record_failed(fulfilment_id, "w1", "InvalidInput", "Invalid trackingNumber")
    listed = cli(cli_env, "fulfilments", "list", "--failed")
    assert listed.exit_code == 0, listed.output
    assert "InvalidInput: Invalid trackingNumber" in listed.output
    retried = cli(cli_env, "fulfilments", "retry", str(fulfilment_id))
    assert retried.exit_code == 0 and "accepted again" in retried.output
    again = cli(cli_env, "fulfilments", "retry", str(fulfilment_id))
    assert again.exit_code == 2 and "only a failed one can be retried" in again.output
    shown = cli(cli_env, "fulfilments", "show", str(fulfilment_id))
    assert '"state": "accepted"' in shown.output


def test_orders_late_lists_orders_near_or_past_their_ship_by(
    container: compose.Container, account_id: int, cli_env: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    add_order(container, account_id, 7, ship_by_latest=now - timedelta(hours=2))
    add_order(container, account_id, 8, ship_by_latest=now + timedelta(hours=3))
    add_order(container, account_id, 9, ship_by_latest=now + timedelta(days=5))
    late = cli(cli_env, "orders", "late")
    assert late.exit_code == 0, late.output
    lines = late.output.splitlines()
    assert "113-0000007-0000001" in lines[2] and "MISSED" in lines[2]
    assert "113-0000008-0000001" in lines[3] and "soon" in lines[3]
    assert "113-0000009-0000001" not in late.output


def test_the_sweeper_queues_a_fulfilment_whose_message_was_lost(
    celery_app: Any, order: AmazonOrder, container: compose.Container
) -> None:
    from workers import tasks_fulfil

    lost = RecordingSender()  # the message queued after the commit never reached the broker
    producer.submit_fulfilment(body(order), app=lost)
    assert tasks_fulfil.sweep() == 0  # not due yet: its own message may still come
    with container.engine.begin() as conn:
        conn.execute(update(FulfilmentRow).values(next_attempt_at=func.now()))
    assert tasks_fulfil.sweep() == 1
    assert tasks_fulfil.sweep() == 0
    assert [h["task"] for h, _ in drain(celery_app)] == ["fulfil.confirm"]


def test_the_deadline_task_warns_once(container: compose.Container, account_id: int) -> None:
    from workers import tasks_fulfil

    add_order(container, account_id, 10, ship_by_latest=datetime.now(UTC) + timedelta(hours=2))
    first = tasks_fulfil.check_ship_by_deadlines()
    second = tasks_fulfil.check_ship_by_deadlines()
    assert (first["approaching"], second["approaching"]) == (1, 0)
    with container.engine.connect() as conn:
        payload = conn.execute(
            select(OutboxEvent.payload).where(OutboxEvent.topic == "orders/ship_by_approaching")
        ).scalar_one()
    assert payload["quantity_unshipped"] == 4 and payload["buyer_notified_by"] == "amazon"


# --- the confirmation, against the sandbox over HTTP ------------------------------------------

SANDBOX_SERVES_CONFIRM = pytest.mark.skipif(
    "ordersV0.confirmShipment" not in SERVED_OPERATIONS,
    reason="the sandbox does not serve confirmShipment yet",
)


@pytest.fixture
def on_sandbox(settings: Settings, clean_db: Engine) -> Iterator[Any]:
    """The container pointed at a running sandbox, with its demo seller as account 'acme'."""
    import httpx

    from infra.amazon.sandbox.server import running_sandbox
    from infra.settings import Region

    with running_sandbox(rate_factor=200) as handle:
        container = compose.use(
            settings.model_copy(
                update={
                    "amazon_region": Region.SANDBOX,
                    "spapi_endpoint": handle.base_url,
                    "lwa_token_url": f"{handle.base_url}/auth/o2/token",
                    "lwa_client_id": "amzn1.application-oa2-client.sandbox",
                    "lwa_client_secret": SecretStr("sandbox-secret"),
                }
            )
        )
        from infra.db.accounts import add_account

        add_account(
            container.sessions,
            name="acme",
            selling_partner_id="SANDBOX-DEMO",
            region="SANDBOX",
            marketplace_ids=["ATVPDKIKX0DER"],
            refresh_token="Atzr|sandbox-demo-seller",
            client_id="amzn1.application-oa2-client.sandbox",
        )
        control = httpx.Client(base_url=handle.base_url, timeout=30)
        try:
            yield container, control
        finally:
            control.close()
            compose.reset_and_close()


@SANDBOX_SERVES_CONFIRM
def test_a_fulfilment_is_confirmed_on_the_sandbox_once_with_the_stores_ship_date(
    on_sandbox: Any,
) -> None:
    from infra.amazon.translate import to_domain
    from infra.db.accounts import get_account
    from infra.db.ingestion import SqlIngestionStore
    from workers import tasks_fulfil
    from workers.celery_app import TransientError

    container, control = on_sandbox
    created = control.post(
        "/_sandbox/orders/bulk",
        json={"count": 1, "fulfilled_by": "MERCHANT", "status": "UNSHIPPED"},
    )
    created.raise_for_status()
    (order_id,) = created.json()["order_ids"]
    account = get_account(container.sessions, "acme")
    client = container.amazon_client(account)
    raw = client.get_order(order_id, ("FULFILLMENT", "PACKAGES", "CANCELLATION"))
    order = to_domain(raw.model_dump(mode="json", by_alias=True, exclude_none=True))
    SqlIngestionStore(container.engine, container.sessions).save_page(
        account.id, "orders", [order], [], Cursor()
    )
    shipped_at = max(order.purchased_at, datetime.now(UTC) - timedelta(hours=1)).replace(
        microsecond=0
    )
    request = {
        "account": "acme",
        "amazon_order_id": order_id,
        "platform_fulfilment_id": "F-sandbox",
        "shipped_at": shipped_at.isoformat(),
        "carrier_code": "UPS",
        "tracking_number": "1Z999AA10123456784",
    }
    result = producer.submit_fulfilment(request, app=RecordingSender())
    fulfilment_id = result.fulfilment.id  # type: ignore[union-attr]

    # Every answer (the client tries six times) is lost after the sandbox applied the call:
    # the task retries later.
    control.post(
        "/_sandbox/faults",
        json={"operation": "ordersV0.confirmShipment", "kind": "lose_response", "count": 6},
    ).raise_for_status()
    with pytest.raises(TransientError):  # called directly, the base class's retry raises
        tasks_fulfil.confirm(fulfilment_id)
    control.delete("/_sandbox/faults").raise_for_status()
    assert tasks_fulfil.confirm(fulfilment_id)["outcome"] == "confirmed"
    assert tasks_fulfil.confirm(fulfilment_id)["outcome"] == "skipped"

    packages = client.get_order(order_id, ("PACKAGES",)).packages
    assert [p.package_reference_id for p in packages] == [str(fulfilment_id)]
    assert packages[0].ship_time == shipped_at
    stored = producer.fulfilment_store().get(fulfilment_id)
    assert stored is not None and stored.state.value == "confirmed"
    with container.engine.connect() as conn:
        row = conn.execute(select(FulfilmentRow)).one()
    assert row.amazon_order_status == "SHIPPED"
