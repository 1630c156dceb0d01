"""Producers' API tokens end to end: ``tokens create|list|revoke`` through the CLI, then real
HTTP requests to the web process (``amazon-channel web`` in its own process): a created token
is accepted, a revoked one is 401, one limited to an account is 403 naming ``account`` for
another account's request (by the query, the body or the path), and ``API_TOKENS`` still
opens everything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select

from infra.db.accounts import get_account
from infra.db.tables import ApiToken
from infra.db.tokens import TOKEN_PREFIX, token_hash
from tests.integration.infra.db.seed import amazon_order, seed_account, seed_order
from tests.integration.workers.scenarios import fulfilment_body, web_process
from workers import bootstrap
from workers.cli import main
from workers.web.auth import NO_ACCOUNT, OTHER_ACCOUNT

pytestmark = pytest.mark.integration

SIMPLE = "simple-setup-token"


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def create(env: dict[str, str], name: str, *accounts: str) -> str:
    limits = [arg for account in accounts for arg in ("--account", account)]
    result = run(env, "tokens", "create", name, *limits)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


@pytest.fixture
def web(
    container: bootstrap.Container, child_env: dict[str, str], tmp_path: Path
) -> Iterator[httpx.Client]:
    seed_account(container.sessions, "acme")
    seed_account(container.sessions, "other")
    env = {**child_env, "DATA_DIR": str(tmp_path / "data"), "API_TOKENS": SIMPLE}
    with web_process(env, tmp_path) as base, httpx.Client(base_url=base, timeout=30) as http:
        yield http


def get(http: httpx.Client, token: str, path: str) -> httpx.Response:
    return http.get(path, headers={"Authorization": f"Bearer {token}"})


def reasons(response: httpx.Response) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in response.json()["errors"]}


def test_a_created_token_is_shown_once_stored_hashed_accepted_and_revoked(
    web: httpx.Client, cli_env: dict[str, str], clean_db: Engine
) -> None:
    token = create(cli_env, "shop-producer")
    assert token.startswith(TOKEN_PREFIX) and len(token) > 40
    with clean_db.connect() as conn:
        (row,) = conn.execute(select(ApiToken.name, ApiToken.token_hash)).all()
    assert row == ("shop-producer", token_hash(token))  # the hash, never the token

    listed = run(cli_env, "tokens", "list")
    assert "shop-producer" in listed.output and "every account" in listed.output
    assert token not in listed.output

    assert get(web, token, "/v1/fulfilments?account=acme").status_code == 200
    assert get(web, token, "/v1/fulfilments").status_code == 200  # unlimited: every account

    assert run(cli_env, "tokens", "revoke", "shop-producer").output.strip() == (
        "token shop-producer revoked"
    )
    refused = get(web, token, "/v1/fulfilments?account=acme")
    assert refused.status_code == 401
    assert reasons(refused) == {"Authorization": "a valid bearer token is required"}
    twice = run(cli_env, "tokens", "revoke", "shop-producer")
    assert twice.exit_code == 0 and "was revoked already" in twice.output
    assert "revoked" in run(cli_env, "tokens", "list").output
    # API_TOKENS stays for simple setups.
    assert get(web, SIMPLE, "/v1/fulfilments").status_code == 200
    assert get(web, TOKEN_PREFIX + "made-up", "/v1/fulfilments").status_code == 401


def test_a_token_limited_to_an_account_is_refused_for_another_s(
    web: httpx.Client, cli_env: dict[str, str]
) -> None:
    token = create(cli_env, "other-only", "other")
    assert "accounts " in run(cli_env, "tokens", "list").output

    assert get(web, token, "/v1/fulfilments?account=other").status_code == 200
    assert get(web, token, "/v1/refunds?account=other").status_code == 200
    for path in (
        "/v1/fulfilments?account=acme",
        "/v1/refunds?account=acme",
        "/v1/cancellations?account=acme",
        "/v1/accounts/acme/reconnect-plan",
    ):
        refused = get(web, token, path)
        assert refused.status_code == 403, (path, refused.text)
        assert reasons(refused) == {"account": OTHER_ACCOUNT}
    listing = get(web, token, "/v1/fulfilments")
    assert listing.status_code == 403 and reasons(listing) == {"account": NO_ACCOUNT}

    body: dict[str, Any] = {"account": "acme", "amazon_order_id": "113-0000001-0000001"}
    posted = web.post("/v1/fulfilments", json=body, headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 403 and reasons(posted) == {"account": OTHER_ACCOUNT}
    # Its own account's body goes on to the route, which judges it as always (422 here).
    own = web.post(
        "/v1/fulfilments",
        json={**body, "account": "other"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert own.status_code == 422, own.text


def test_bad_token_commands_are_one_line_errors(
    cli_env: dict[str, str], container: bootstrap.Container
) -> None:
    seed_account(container.sessions, "acme")
    create(cli_env, "taken")
    again = run(cli_env, "tokens", "create", "taken")
    assert again.exit_code == 2
    assert again.output.strip().splitlines() == [
        "error: name: a token called 'taken' exists already (revoked ones keep their name)"
    ]
    unknown = run(cli_env, "tokens", "create", "x", "--account", "nope")
    assert unknown.exit_code == 2 and unknown.output.strip() == "error: account: no account 'nope'"
    missing = run(cli_env, "tokens", "revoke", "never-made")
    assert missing.exit_code == 2
    assert missing.output.strip() == "error: name: no token called 'never-made'"


def test_a_limited_token_reads_by_id_only_its_accounts_fulfilments(
    web: httpx.Client, cli_env: dict[str, str], container: bootstrap.Container, clean_db: Engine
) -> None:
    """A read by the channel's own id answers 404 for another account's row: as an id that
    names nothing, so a limited producer learns nothing of the others' fulfilments."""
    ids: dict[str, int] = {}
    for n, name in ((1, "acme"), (2, "other")):
        account_id = get_account(container.sessions, name).id
        order = amazon_order(n)
        seed_order(clean_db, container.sessions, account_id, order)
        answer = web.post(
            "/v1/fulfilments",
            json=fulfilment_body(f"F-{name}", (order.amazon_order_id, f"{n:07d}-A", 3),
                                 datetime.now(UTC)) | {"account": name},
            headers={"Authorization": f"Bearer {SIMPLE}", "Idempotency-Key": f"key-{name}"},
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()["fulfilment_id"]
    token = create(cli_env, "other-reader", "other")

    assert get(web, token, f"/v1/fulfilments/{ids['other']}").status_code == 200
    hidden = get(web, token, f"/v1/fulfilments/{ids['acme']}")
    assert hidden.status_code == 404, hidden.text
    assert reasons(hidden) == {"fulfilment_id": f"no fulfilment {ids['acme']}"}
    assert get(web, SIMPLE, f"/v1/fulfilments/{ids['acme']}").status_code == 200
