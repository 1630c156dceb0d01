"""One error shape everywhere: every route of the web app, read from ``app.routes`` (a route added
later is walked too), is asked for each kind of refusal it can give (401 without a valid token,
405 for a method it does not have, 404 for an unknown path or resource, 422 for a path id that is
no id or a body that is no JSON, 415 for a body labelled as something else, 413 for a body over
the cap, declared or chunked, 409 for an idempotency key reused with another body) and must
answer it as ``{"errors": [{"field", "reason"}]}`` with the right status, on the real store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import routing
from fastapi.testclient import TestClient
from starlette.routing import Mount

from domain.orders import AmazonOrder
from tests.integration.workers.fulfilments import AUTH, RecordingSender, body
from tests.integration.workers.refunds import cancellation_body, refund_body
from workers import bootstrap
from workers.web import create_app
from workers.web.fulfilments import confirmation_sender
from workers.web.guard import BODY_LIMIT
from workers.web.operator.pages import PREFIX as OPERATOR_PAGE
from workers.web.refunds import flush_sender

pytestmark = pytest.mark.integration

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# A value of each path parameter that names nothing in an empty store, and one that is no id.
UNKNOWN = {
    "fulfilment_id": "987654",
    "refund_id": "987654",
    "cancellation_id": "987654",
    "payout_id": "987654",
}
UNKNOWN_ACCOUNT = "no-such-account"
NOT_AN_ID = "abc"


def _routes() -> list[tuple[str, frozenset[str], tuple[str, ...]]]:
    """(path, methods, path parameters) of every route of the app, as its router walks them;
    not the operator page's (HTML for people, signed in by a cookie: test_operator_page)."""
    found = []
    for context in routing.iter_route_contexts(create_app().routes):
        path, methods = context.path, context.methods or set()
        assert path is not None
        if path == OPERATOR_PAGE or path.startswith(f"{OPERATOR_PAGE}/"):
            continue
        if isinstance(context.original_route, Mount):  # files under it (the docs' assets)
            path, methods = f"{path}/{{file}}", {"GET"}
        names = tuple(part[1:-1] for part in path.split("/") if part.startswith("{"))
        found.append((path, frozenset(methods - {"HEAD"}), names))
    return found


ROUTES = _routes()
PATHS = {path: frozenset().union(*(m for p, m, _ in ROUTES if p == path)) for path, _, _ in ROUTES}
POSTS = [path for path, methods, _ in ROUTES if "POST" in methods]
# The POST routes that read a body (the OpenAPI document says which).
_DOCUMENT = create_app().openapi()["paths"]
BODY_POSTS = [path for path in POSTS if "requestBody" in _DOCUMENT[path]["post"]]
# The POST routes that take an Idempotency-Key, with a body they accept (a new one must be added
# here: the walk below fails for a keyed route it has no body for).
KEYED_BODIES: dict[str, Callable[[AmazonOrder], dict[str, Any]]] = {
    "/v1/fulfilments": lambda order: body(order),
    "/v1/refunds": lambda order: refund_body(order),
    "/v1/cancellations": lambda order: cancellation_body(order),
}


# A body the route takes, where it asks for one, so the resource is what is refused.
ACCEPTED_BODIES: dict[str, Any] = {"/v1/accounts/{account}/approvals": {"all_safe": True}}


def concrete(path: str, value: Callable[[str], str]) -> str:
    for part in path.split("/"):
        if part.startswith("{"):
            path = path.replace(part, value(part[1:-1]))
    return path


def unknown(name: str) -> str:
    return UNKNOWN.get(name, UNKNOWN_ACCOUNT)


@pytest.fixture
def client(container: bootstrap.Container, sender: RecordingSender) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[confirmation_sender] = lambda: sender
    app.dependency_overrides[flush_sender] = lambda: sender
    with TestClient(app) as client:
        yield client


def shaped(response: Any, status: int) -> dict[str, str]:
    """The answer's errors by field, after checking its status and that it is the shape (a
    JSON object with one key, ``errors``, a non-empty list of ``{field, reason}``)."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    found = response.json()
    assert set(found) == {"errors"}, found
    assert found["errors"], found
    for error in found["errors"]:
        assert set(error) == {"field", "reason"}, error
        assert isinstance(error["field"], str) and error["field"], error
        assert isinstance(error["reason"], str) and error["reason"], error
    return {e["field"]: e["reason"] for e in found["errors"]}


def test_the_walk_finds_every_kind_of_route() -> None:
    """The walk is no walk of nothing: the API's routes and the operators' are all there."""
    assert {"/healthz", "/metrics", "/docs", "/redoc", "/openapi.json"} <= set(PATHS)
    assert "/docs/assets/{file}" in PATHS
    assert {"/v1/fulfilments", "/v1/refunds", "/v1/cancellations"} <= set(PATHS)
    assert PATHS["/v1/fulfilments"] == {"GET", "POST"}
    assert set(KEYED_BODIES) <= set(POSTS)


@pytest.mark.parametrize(("path", "methods", "names"), ROUTES, ids=[p for p, _, _ in ROUTES])
def test_every_api_route_answers_401_without_a_valid_token(
    client: TestClient, path: str, methods: frozenset[str], names: tuple[str, ...]
) -> None:
    if not path.startswith("/v1/"):
        pytest.skip("not the API: no token asked")
    url = concrete(path, unknown)
    for method in methods:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eA=="}):
            response = client.request(method, url, headers=headers)
            assert shaped(response, 401) == {"Authorization": "a valid bearer token is required"}
            assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_path_answers_405_for_a_method_it_does_not_have(
    client: TestClient, path: str
) -> None:
    url = concrete(path, unknown)
    for method in set(METHODS) - PATHS[path]:
        response = client.request(method, url, headers=AUTH)
        assert shaped(response, 405) == {"method": f"{method} is not allowed here"}
        assert set(response.headers["Allow"].split(", ")) >= PATHS[path]


@pytest.mark.parametrize(
    "url",
    ["/nothing-here", "/v1", "/v1/nothing-here", "/v1/fulfilments/1/more", "/docs/nothing"],
)
def test_an_unknown_path_is_404_with_or_without_a_token(client: TestClient, url: str) -> None:
    for headers in ({}, AUTH):
        assert shaped(client.get(url, headers=headers), 404) == {"path": f"no such resource: {url}"}


@pytest.mark.parametrize(
    ("path", "methods", "names"),
    [route for route in ROUTES if route[2]],
    ids=[p for p, _, n in ROUTES if n],
)
def test_every_path_with_an_id_answers_404_for_one_that_names_nothing(
    client: TestClient, path: str, methods: frozenset[str], names: tuple[str, ...]
) -> None:
    for method in methods:
        url = concrete(path, unknown)
        response = client.request(method, url, headers=AUTH, json=ACCEPTED_BODIES.get(path))
        errors = shaped(response, 404)
        assert set(errors) <= {*names, "path"}, errors  # the parameter, or a file's path


@pytest.mark.parametrize(
    ("path", "methods", "names"),
    [route for route in ROUTES if set(route[2]) & set(UNKNOWN)],
    ids=[p for p, _, n in ROUTES if set(n) & set(UNKNOWN)],
)
def test_every_path_id_that_is_no_id_is_422_naming_it(
    client: TestClient, path: str, methods: frozenset[str], names: tuple[str, ...]
) -> None:
    for method in methods:
        response = client.request(method, concrete(path, lambda _: NOT_AN_ID), headers=AUTH)
        assert set(shaped(response, 422)) == set(names)


def _post(client: TestClient, path: str, content: Any, **headers: str) -> Any:
    url = concrete(path, unknown)
    sent = {**AUTH, "Idempotency-Key": "walk-1", "Content-Type": "application/json", **headers}
    return client.post(url, content=content, headers=sent)


@pytest.mark.parametrize("path", POSTS)
def test_every_post_answers_413_for_a_body_over_the_cap(client: TestClient, path: str) -> None:
    declared = _post(client, path, b"{" + b" " * BODY_LIMIT + b"}")
    assert shaped(declared, 413) == {"body": f"larger than {BODY_LIMIT} bytes"}
    if path not in BODY_POSTS:
        return  # a route that reads no body never reads a streamed one either

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body streams
        for _ in range(BODY_LIMIT // 65536 + 2):
            yield b" " * 65536

    streamed = _post(client, path, chunks())
    assert shaped(streamed, 413) == {"body": f"larger than {BODY_LIMIT} bytes"}


@pytest.mark.parametrize("path", POSTS)
def test_every_post_answers_415_for_a_body_labelled_as_something_else(
    client: TestClient, path: str
) -> None:
    for label in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = _post(client, path, b"{}", **{"Content-Type": label})
        assert shaped(response, 415) == {"Content-Type": "must be application/json"}


@pytest.mark.parametrize("path", BODY_POSTS)
def test_every_post_with_a_body_answers_422_for_one_that_is_no_json(
    client: TestClient, path: str, account_id: int
) -> None:
    # An unknown account is said before the body is read: the walk names a known one.
    response = _post(client, concrete(path, lambda _: "acme"), b"{not json")
    assert shaped(response, 422) == {"body": "not valid JSON"}


@pytest.mark.parametrize("path", POSTS)
def test_every_keyed_post_answers_409_for_its_key_with_another_body(
    client: TestClient, path: str, charged: AmazonOrder
) -> None:
    if path not in KEYED_BODIES:
        pytest.skip("takes no Idempotency-Key")
    first = KEYED_BODIES[path](charged)
    answered = _post(client, path, json.dumps(first))
    assert answered.status_code in (200, 201), answered.text
    other = {**first, "amazon_order_id": "999-0000000-0000000"}
    assert shaped(_post(client, path, json.dumps(other)), 409) == {
        "Idempotency-Key": "already used with a different body"
    }
