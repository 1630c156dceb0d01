"""The operator page's rules, through the app (``create_app()``) over HTTPS as a browser talks
to it: signing in, the session cookie, CSRF, the retry and approval buttons and what they
change in the store. The same page in a real browser is ``tests/browser``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from domain.orders import AmazonOrder
from domain.refunds import RefundState
from tests.integration.workers.fulfilments import RecordingSender, body
from tests.integration.workers.web.test_accounts import (  # noqa: F401 (held: a fixture)
    flushes,
    held,
    post,
    states,
    sync_catches_up,
)
from workers import bootstrap
from workers.doors import fulfilments as producer
from workers.web import create_app
from workers.web.fulfilments import confirmation_sender
from workers.web.operator.session import COOKIE
from workers.web.refunds import flush_sender

pytestmark = pytest.mark.integration

TOKEN = "platform-secret"  # one of the container's API_TOKENS
BASE = "https://testserver"


@pytest.fixture
def client(container: bootstrap.Container, sender: RecordingSender) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[flush_sender] = lambda: sender
    app.dependency_overrides[confirmation_sender] = lambda: sender
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient) -> str:
    """Signed in: the CSRF token of the session's forms."""
    answer = client.post("/ops/login", data={"token": TOKEN})
    assert (answer.status_code, answer.headers["location"]) == (303, "/ops/"), answer.text
    return csrf(client.get("/ops/").text)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found is not None, html
    return found.group(1)


def failed_fulfilment(order: AmazonOrder, sender: RecordingSender) -> int:
    result = producer.submit_fulfilment(body(order), app=sender)
    fulfilment_id: int = result.fulfilment.id  # type: ignore[union-attr]
    store = producer.fulfilment_store()
    store.claim(fulfilment_id, "w1", timedelta(minutes=6))
    store.record_failed(fulfilment_id, "w1", "InvalidInput", "Invalid trackingNumber")
    return fulfilment_id


def test_every_page_sends_a_stranger_to_sign_in(client: TestClient) -> None:
    for path in ("/ops/", "/ops/late", "/ops/failures", "/ops/approvals"):
        answer = client.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/ops/login"), path
    assert client.post("/ops/fulfilments/1/retry", data={"csrf": "x"}).status_code == 303


def test_a_wrong_token_is_refused_and_a_right_one_gets_a_strict_secure_cookie(
    client: TestClient, account_id: int
) -> None:
    wrong = client.post("/ops/login", data={"token": "guess"})
    assert wrong.status_code == 401 and "not a valid API token" in wrong.text
    assert "set-cookie" not in wrong.headers
    right = client.post("/ops/login", data={"token": TOKEN})
    cookie = right.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/ops"):
        assert flag.lower() in cookie.lower(), cookie
    assert TOKEN not in cookie
    page = client.get("/ops/")
    assert page.status_code == 200
    assert "postgres" in page.text and "acme" in page.text
    assert "'self'" in page.headers["content-security-policy"]


def test_a_tampered_or_foreign_cookie_is_no_session(
    client: TestClient, container: bootstrap.Container
) -> None:
    sign_in(client)
    value = client.cookies[COOKIE]
    client.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/ops/").status_code == 303
    client.cookies.set(COOKIE, value)
    assert client.get("/ops/").status_code == 200
    # Another key (OPERATOR_SESSION_KEY changed): every session ends.
    other = container.settings.model_copy(update={"operator_session_key": SecretStr("another key")})
    bootstrap.use(other)
    assert client.get("/ops/").status_code == 303


def test_a_sign_in_from_another_sites_form_is_refused(client: TestClient) -> None:
    answer = client.post(
        "/ops/login", data={"token": TOKEN}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403 and "set-cookie" not in answer.headers


def test_retry_without_the_csrf_token_or_from_another_site_changes_nothing(
    client: TestClient, order: AmazonOrder, sender: RecordingSender
) -> None:
    fulfilment_id = failed_fulfilment(order, sender)
    token = sign_in(client)
    path = f"/ops/fulfilments/{fulfilment_id}/retry"
    missing = client.post(path, data={})
    assert missing.status_code == 403 and "out of date or from another site" in missing.text
    assert client.post(path, data={"csrf": "0" * 64}).status_code == 403
    foreign = client.post(path, data={"csrf": token}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    found = producer.fulfilment_store().get(fulfilment_id)
    assert found is not None and found.state.value == "failed"


def test_the_failures_page_shows_the_reason_and_retry_queues_it_again_once(
    client: TestClient, order: AmazonOrder, sender: RecordingSender
) -> None:
    fulfilment_id = failed_fulfilment(order, sender)
    token = sign_in(client)
    page = client.get("/ops/failures")
    assert "InvalidInput: Invalid trackingNumber" in page.text
    assert f'id="fulfilment-{fulfilment_id}"' in page.text
    sent_before = len(sender.sent)
    done = client.post(f"/ops/fulfilments/{fulfilment_id}/retry", data={"csrf": token})
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert f"fulfilment {fulfilment_id} accepted again (accepted)" in after.text
    assert "Nothing failed." in after.text
    found = producer.fulfilment_store().get(fulfilment_id)
    assert found is not None and found.state.value == "accepted"
    assert [name for name, _ in sender.sent[sent_before:]] == ["fulfil.confirm"]
    again = client.post(f"/ops/fulfilments/{fulfilment_id}/retry", data={"csrf": token})
    said = client.get(again.headers["location"]).text
    assert "refused: " in said and "only a failed one can be retried" in said
    assert len(sender.sent) == sent_before + 1


def test_a_message_in_a_link_is_not_shown_unless_we_signed_it(client: TestClient) -> None:
    sign_in(client)
    page = client.get("/ops/failures", params={"said": "call 555-0100 to fix this"})
    assert "555-0100" not in page.text


def test_refunds_awaiting_approval_are_listed_and_approved_or_rejected_from_the_page(
    client: TestClient,
    container: bootstrap.Container,
    account_id: int,
    held: dict[str, int],  # noqa: F811 (the fixture imported above)
    sender: RecordingSender,
) -> None:
    assert post(client, "/v1/accounts/acme/reconnect").status_code == 200
    sync_catches_up(container, account_id)
    token = sign_in(client)
    page = client.get("/ops/approvals").text
    for name in ("safe", "shipped", "cannot"):
        assert f'id="waiting-{held[name]}"' in page
    assert "Approve the 1 safe" in page
    path = f"/ops/accounts/{account_id}/approvals"
    done = client.post(path, data={"csrf": token, "decision": "approve_safe"})
    assert "acme: approved 1; rejected 0" in client.get(done.headers["location"]).text
    rejected = client.post(
        path, data={"csrf": token, "decision": "reject", "refund_id": str(held["shipped"])}
    )
    assert "acme: approved 0; rejected 1" in client.get(rejected.headers["location"]).text
    assert states(container, held) == {
        "safe": RefundState.ACCEPTED,
        "shipped": RefundState.FAILED,
        "cannot": RefundState.AWAITING_APPROVAL,
    }
    assert len(flushes(sender)) == 1
    unknown = client.post(path, data={"csrf": token, "decision": "send it all"})
    assert "refused: decision must be one of" in client.get(unknown.headers["location"]).text


def test_every_page_renders_with_nothing_in_the_store(client: TestClient) -> None:
    sign_in(client)
    said: dict[str, Any] = {
        "/ops/late": "No order is late or due soon.",
        "/ops/failures": "Nothing failed.",
        "/ops/approvals": "Nothing awaits approval.",
    }
    for path, text in said.items():
        answer = client.get(path)
        assert answer.status_code == 200 and text in answer.text, path
    css = client.get("/ops/static/operator.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
