"""Hostile input through the HTTP door on the real store: every value the store cannot hold is
refused with its field and reason (never a 500), bodies past the cap get a 413 before they are
read, an answer lists at most 50 errors, FastAPI's own refusals read in the error shape, and an
unexpected error is a 500 in that shape with a request id that is also in the log."""

from __future__ import annotations

import json
import logging
import resource
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from domain.orders import AmazonOrder
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.db.tables import IdempotencyKey
from tests.integration.workers.fulfilments import AUTH, RecordingSender, body, count
from workers import bootstrap
from workers.web import create_app
from workers.web.app import api_router
from workers.web.fulfilments import confirmation_sender
from workers.web.guard import BODY_LIMIT

pytestmark = pytest.mark.integration

BIGINT_PAST = 2**63
ACCOUNT_ID = "an account id is a whole number from 1 to 9223372036854775807, in the digits 0-9"
PATH_ID = "must be a fulfilment id: a whole number from 1 to 9223372036854775807"


@pytest.fixture
def client(container: bootstrap.Container, sender: RecordingSender) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[confirmation_sender] = lambda: sender
    with TestClient(app) as client:
        yield client


def post_raw(client: TestClient, raw: bytes | Any, key: str = "key-1", **headers: str) -> Any:
    return client.post(
        "/v1/fulfilments",
        content=raw,
        headers={**AUTH, "Idempotency-Key": key, "Content-Type": "application/json", **headers},
    )


def post_json(client: TestClient, data: Any, key: str = "key-1") -> Any:
    """The body as JSON text with ``ensure_ascii``: a NUL or a lone surrogate travels as an
    escape (``\\u0000``, ``\\ud800``), as a hostile client would send it."""
    return post_raw(client, json.dumps(data).encode(), key)


def errors(response: Any) -> list[dict[str, str]]:
    found = response.json()
    assert set(found) == {"errors"}, found
    return list(found["errors"])


def reasons(response: Any) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in errors(response)}


# --- values the store cannot hold -------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"account": "ac\x00me"}, "account", "must not contain control characters (U+0000"),
        ({"tracking_number": "1Z\ud800"}, "tracking_number", "is not valid Unicode text"),
        ({"platform_fulfilment_id": "F\x1b[2J"}, "platform_fulfilment_id", "control characters"),
        ({"carrier_name": "Pony\nExpress"}, "carrier_name", "control characters (U+000A"),
        ({"lines": [{"sku": "MUG\x00", "quantity": 1}]}, "lines[0].sku", "U+0000"),
        ({"account": BIGINT_PAST}, "account", ACCOUNT_ID),
        ({"account": 0}, "account", ACCOUNT_ID),
        ({"account": "99999999999999999999"}, "account", ACCOUNT_ID),
        ({"account": "²"}, "account", ACCOUNT_ID),
        ({"lines": [{"sku": "MUG-RED", "quantity": 2**31}]}, "lines[0].quantity", "at most"),
        (
            {"shipped_at": "0001-01-01T00:00:00+14:00"},
            "shipped_at",
            "'0001-01-01T00:00:00+14:00' must lie between 2000-01-01 and 2100-01-01 (UTC)",
        ),
        (
            {"shipped_at": "9999-12-31T23:59:59-14:00"},
            "shipped_at",
            "'9999-12-31T23:59:59-14:00' must lie between 2000-01-01 and 2100-01-01 (UTC)",
        ),
        ({"lines": [{"sku": "MUG-RED", "quantity": 1}] * 101}, "lines", "at most 100 lines"),
        ({"\ud800": 1}, "\\ud800", "unknown field"),
        ({"col\x00our": 1}, "col\\u0000our", "unknown field"),
    ],
)
def test_a_value_the_store_cannot_hold_is_refused_naming_the_field(
    client: TestClient,
    order: AmazonOrder,
    container: bootstrap.Container,
    changes: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    response = post_json(client, body(order, **changes))
    assert response.status_code == 422, response.text
    assert reason in reasons(response)[field]
    assert count(container.engine, FulfilmentRow) == 0
    assert count(container.engine, IdempotencyKey) == 0  # the key is free for the fixed body


@pytest.mark.parametrize(
    "path_id", [str(BIGINT_PAST), "99999999999999999999", "²", "0", "-1", "1.0", "abc", "1_0"]
)
def test_a_path_id_the_store_cannot_hold_is_refused_in_the_error_shape(
    client: TestClient, path_id: str
) -> None:
    response = client.get(f"/v1/fulfilments/{path_id}", headers=AUTH)
    assert response.status_code == 422
    assert reasons(response) == {"fulfilment_id": PATH_ID}
    assert client.get(f"/v1/fulfilments/{BIGINT_PAST - 1}", headers=AUTH).status_code == 404


def test_json_nested_thousands_deep_is_refused(client: TestClient) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert reasons(post_raw(client, deep)) == {"body": "nested deeper than 32 levels"}
    shallow_but_too_deep = json.dumps(
        {"colour": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
    )
    response = post_raw(client, shallow_but_too_deep.encode(), key="k2")
    assert reasons(response) == {"body": "nested deeper than 32 levels"}


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_numbers_json_does_not_have_are_not_json(client: TestClient, constant: bytes) -> None:
    response = post_raw(client, b'{"lines": [{"sku": "A", "quantity": ' + constant + b"}]}")
    assert reasons(response) == {"body": "not valid JSON"}


def test_bytes_that_are_not_utf8_are_not_json(client: TestClient) -> None:
    assert reasons(post_raw(client, b'{"account": "\xff\xfe"}')) == {"body": "not valid JSON"}


# --- size and the number of errors -----------------------------------------------------------


def test_a_body_declared_larger_than_the_cap_is_refused_before_it_is_read(
    client: TestClient,
) -> None:
    response = client.post(
        "/v1/fulfilments",
        content=b"{" + b" " * BODY_LIMIT + b"}",
        headers={"Content-Type": "application/json"},  # no token: refused before anything
    )
    assert response.status_code == 413
    assert reasons(response) == {"body": f"larger than {BODY_LIMIT} bytes"}
    assert response.headers["X-Request-Id"]


def test_a_streamed_body_is_counted_against_the_cap(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 4 MiB
            yield b" " * 65536

    response = post_raw(client, chunks())
    assert response.status_code == 413
    assert reasons(response) == {"body": f"larger than {BODY_LIMIT} bytes"}


@pytest.fixture
def web_server(container: bootstrap.Container) -> Iterator[tuple[str, int]]:
    """The app under uvicorn in a thread, on a free port (it reads this test's container)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield sock.getsockname()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_a_chunked_body_stops_being_read_once_past_the_cap(web_server: tuple[str, int]) -> None:
    """Over a real socket: the 413 comes while the client still has most of its body to send,
    which it never needs to (no terminating chunk is sent at all)."""
    head = (
        "POST /v1/fulfilments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Type: application/json\r\nAuthorization: {AUTH['Authorization']}\r\n"
        "Idempotency-Key: k\r\n\r\n"
    )
    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
    with socket.create_connection(web_server, timeout=10) as conn:
        conn.sendall(head.encode())
        sent = 0
        for _ in range(BODY_LIMIT // 65536 + 2):  # just past the cap; the rest never goes
            # Stop as soon as the answer is there: writing on after the server closed its side
            # would have the kernel reset the connection and drop the answer unread.
            if select.select([conn], [], [], 0)[0]:
                break
            try:
                conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed between the check and the write
            sent += 65536
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 2 * BODY_LIMIT


def test_a_body_just_under_the_cap_full_of_unknown_keys_gets_a_short_answer(
    client: TestClient, order: AmazonOrder
) -> None:
    data = body(order)
    n = (BODY_LIMIT - len(json.dumps(data)) - 100) // len(', "k0000000": 0')
    data.update((f"k{i:07d}", 0) for i in range(n))
    raw = json.dumps(data).encode()
    assert BODY_LIMIT - 200 < len(raw) <= BODY_LIMIT
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = post_raw(client, raw)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    found = errors(response)
    assert response.status_code == 422
    assert len(found) == 51 and len(response.content) < 5000
    assert found[0] == {"field": "k0000000", "reason": "unknown field"}
    assert found[-1] == {
        "field": "errors",
        "reason": f"{n - 50} more not listed (an answer lists the first 50)",
    }
    assert grown_mb < 200, grown_mb


def test_the_error_list_is_capped_also_for_errors_of_every_line(
    client: TestClient, order: AmazonOrder
) -> None:
    lines = [{"sku": f"S{i}\x00", "quantity": 0} for i in range(100)]
    found = errors(post_json(client, body(order, lines=lines)))
    assert len(found) == 51
    assert found[-1]["field"] == "errors" and found[-1]["reason"].startswith("150 more")


# --- FastAPI's own refusals, and a server error ------------------------------------------------


def test_an_unknown_path_or_method_is_refused_in_the_error_shape(client: TestClient) -> None:
    missing = client.get("/v1/nothing-here", headers=AUTH)
    assert missing.status_code == 404
    assert reasons(missing) == {"path": "no such resource: /v1/nothing-here"}
    wrong = client.delete("/v1/fulfilments", headers=AUTH)
    assert wrong.status_code == 405
    assert reasons(wrong) == {"method": "DELETE is not allowed here"}


def test_an_idempotency_key_with_a_control_character_is_refused(
    client: TestClient, order: AmazonOrder
) -> None:
    response = post_json(client, body(order), key="key\x7f")
    assert response.status_code == 422
    assert "control characters (U+007F" in reasons(response)["Idempotency-Key"]


def test_every_answer_carries_a_request_id(client: TestClient, order: AmazonOrder) -> None:
    created = post_json(client, body(order))
    assert created.status_code == 201
    ids = {created.headers["X-Request-Id"], client.get("/healthz").headers["X-Request-Id"]}
    assert len(ids) == 2  # one per request


def test_an_unexpected_error_is_a_500_in_the_error_shape_with_a_logged_request_id(
    container: bootstrap.Container, caplog: pytest.LogCaptureFixture
) -> None:
    api = api_router()

    @api.get("/explodes")
    def explodes() -> None:
        raise RuntimeError("a bug, not the client's fault")

    app = create_app()
    app.include_router(api)
    with (
        TestClient(app, raise_server_exceptions=False) as client,
        caplog.at_level(logging.ERROR, logger="workers.web.guard"),
    ):
        response = client.get("/v1/explodes", headers=AUTH)
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    assert response.json() == {
        "errors": [
            {
                "field": "request",
                "reason": "an error on our side, not in the request; its request id is "
                + request_id,
            }
        ]
    }
    (record,) = [r for r in caplog.records if r.name == "workers.web.guard"]
    assert getattr(record, "request_id", None) == request_id
    assert request_id in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
