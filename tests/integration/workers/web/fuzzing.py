"""What the fuzzing of the API shares (``test_fuzz`` in ``make test``, ``tests/faults`` deeper):
schemathesis against the app's own OpenAPI document, in-process (ASGI) on the real store, each
generated request sent with a valid bearer token, a wrong one and none; every answer is below
500 and every refusal reads ``{"errors": [{"field", "reason"}]}``.

The schema is loaded when the test module is imported (schemathesis' fixture loader does not
run on this pytest), from an app built then: it reads the store and the settings of the
container in use at each request, which the test's ``container`` fixture sets.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import GenerationMode

from tests.integration.workers.fulfilments import AUTH, RecordingSender
from workers.web import create_app
from workers.web.fulfilments import confirmation_sender

AUTHS = {"valid token": AUTH, "wrong token": {"Authorization": "Bearer wrong"}, "no token": {}}


def api_schema(max_examples: int) -> Any:
    """The app's OpenAPI document as schemathesis reads it, positive and negative examples."""
    app = create_app()
    sender = RecordingSender()
    app.dependency_overrides[confirmation_sender] = lambda: sender
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=max_examples,
        database="none",
    )
    return schema


def check_answer(case: Any, headers: dict[str, str], base_url: str | None = None) -> None:
    """Call the operation with these auth headers (none: without any), in-process or at
    ``base_url``, and check what a hostile client may never get (a reset connection raises)."""
    sent = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = {**sent, **headers}
    response = case.call(base_url=base_url) if base_url else case.call()
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"errors"}, body
        assert body["errors"], body
        assert len(body["errors"]) <= 51, len(body["errors"])
        for error in body["errors"]:
            assert set(error) == {"field", "reason"}, error
            assert isinstance(error["field"], str) and isinstance(error["reason"], str)
    assert response.headers.get("x-request-id"), response.headers


def document_schema(max_examples: int) -> Any:
    """The same document without the app: calls go over real HTTP to ``base_url``."""
    schema = schemathesis.openapi.from_dict(create_app().openapi())
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=max_examples,
        database="none",
    )
    return schema
