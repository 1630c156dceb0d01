"""Refresh tokens at rest, through the CLI on the real store: stored encrypted (the column is not
the token, and opens to it), a clear row from before still works and ``secrets rotate``
encrypts it (twice changes nothing), rotating to a new key keeps every row readable, the data
folder's key file rotates with ``--new-key``, and a wrong key is one line naming SECRETS_KEY."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select, text

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.accounts import get_account
from infra.db.engine import make_session_factory
from infra.db.tables import SellerAccount
from infra.secrets import Keyring, SecretsKeyError, is_sealed, key_file, networked, new_key
from workers.cli import main

pytestmark = pytest.mark.integration

TOKEN = "Atzr|IwEBIA-the-seller-s-refresh-token"


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def add(env: dict[str, str], name: str, token: str = TOKEN) -> None:
    result = run(
        {**env, "LWA_REFRESH_TOKEN": token},
        *("accounts", "add", name, "--seller-id", f"S-{name}"),
        *("--region", "SANDBOX", "--marketplace", "US"),
    )
    assert result.exit_code == 0, result.output


def stored(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(SellerAccount.name, SellerAccount.lwa_refresh_token))
        return {name: token for name, token in rows}


def env_with(cli_env: dict[str, str], key: str) -> dict[str, str]:
    return {**cli_env, "SECRETS_KEY": key}


def test_a_refresh_token_is_stored_encrypted_and_opens_only_where_used(
    cli_env: dict[str, str], clean_db: Engine
) -> None:
    key = new_key()
    add(env_with(cli_env, key), "shop")
    raw = stored(clean_db)["shop"]
    assert raw != TOKEN and TOKEN not in raw and is_sealed(raw)
    assert Keyring((key,), "SECRETS_KEY").open(raw) == TOKEN
    # The account's view carries what the store holds; the Amazon client's build opens it.
    view = get_account(make_session_factory(clean_db), "shop")
    assert view.lwa_refresh_token == raw and TOKEN not in repr(view)


def test_an_edit_keeps_the_sealed_token_or_seals_the_new_one(
    cli_env: dict[str, str], clean_db: Engine
) -> None:
    key = new_key()
    env = env_with(cli_env, key)
    ring = Keyring((key,), "SECRETS_KEY")
    add(env, "shop")
    before = stored(clean_db)["shop"]
    renamed = run(env, "accounts", "edit", "shop", "--name", "shop-2")
    assert renamed.exit_code == 0, renamed.output
    assert stored(clean_db)["shop-2"] == before  # not touched
    edited = run(env, "accounts", "edit", "shop-2", "--refresh-token", "Atzr|a-new-one")
    assert edited.exit_code == 0, edited.output
    raw = stored(clean_db)["shop-2"]
    assert is_sealed(raw) and ring.open(raw) == "Atzr|a-new-one"
    refused = run(env, "accounts", "edit", "shop-2", "--refresh-token", before)
    assert refused.exit_code == 2 and "refresh_token" in refused.output  # no sealed value given


def test_a_clear_row_from_before_still_works_and_rotate_encrypts_it_once(
    cli_env: dict[str, str], clean_db: Engine
) -> None:
    with clean_db.begin() as conn:  # as a release before 0008 wrote it
        conn.execute(
            text(
                "INSERT INTO seller_accounts (name, selling_partner_id, region, marketplace_ids,"
                " lwa_refresh_token) VALUES ('old', 'S-old', 'SANDBOX', ARRAY['ATVPDKIKX0DER'],"
                " :token)"
            ),
            {"token": TOKEN},
        )
    key = new_key()
    env = env_with(cli_env, key)
    assert Keyring((key,), "SECRETS_KEY").open(stored(clean_db)["old"]) == TOKEN
    assert run(env, "accounts", "list").exit_code == 0

    first = run(env, "secrets", "rotate")
    assert first.exit_code == 0, first.output
    assert "1 refresh tokens checked, 1 re-encrypted" in first.output
    assert "0 in clear text" in first.output
    raw = stored(clean_db)["old"]
    assert is_sealed(raw) and Keyring((key,), "SECRETS_KEY").open(raw) == TOKEN

    again = run(env, "secrets", "rotate")
    assert "1 refresh tokens checked, 0 re-encrypted" in again.output
    assert stored(clean_db)["old"] == raw


def test_rotating_to_a_new_key_keeps_every_row_readable(
    cli_env: dict[str, str], clean_db: Engine
) -> None:
    old, new = new_key(), new_key()
    for n in range(3):
        add(env_with(cli_env, old), f"shop-{n}", token=f"Atzr|token-{n}")
    rotated = run(env_with(cli_env, f"{new},{old}"), "secrets", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "3 refresh tokens checked, 3 re-encrypted" in rotated.output
    only_new = Keyring((new,), "SECRETS_KEY")
    only_old = Keyring((old,), "SECRETS_KEY")
    for n in range(3):
        raw = stored(clean_db)[f"shop-{n}"]
        assert only_new.open(raw) == f"Atzr|token-{n}"
        with pytest.raises(SecretsKeyError):
            only_old.open(raw)
    # The old key is gone from the ring: the rows still open, and nothing is left to do.
    assert "0 re-encrypted" in run(env_with(cli_env, new), "secrets", "rotate").output


def test_a_wrong_key_is_one_line_naming_secrets_key(
    cli_env: dict[str, str], clean_db: Engine
) -> None:
    add(env_with(cli_env, new_key()), "shop")
    result = run(env_with(cli_env, new_key()), "secrets", "rotate")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        "error: SECRETS_KEY: the refresh token of account 'shop' was encrypted with a key "
        "that is not in SECRETS_KEY (set SECRETS_KEY to the key it was written with, first "
        "or after the current one)"
    ]
    refused = run(env_with(cli_env, "not-a-key"), "secrets", "rotate")
    assert refused.exit_code == 2
    assert refused.output.startswith("error: SECRETS_KEY: key 1 of SECRETS_KEY is not a Fernet")


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=500) as handle:
        httpx.post(
            f"{handle.base_url}/_sandbox/sellers",
            json={
                "seller_id": "S-shop", "refresh_token": TOKEN,
                "client_id": DEMO_SELLER.client_id, "client_secret": DEMO_SELLER.client_secret,
                "marketplace_ids": ["ATVPDKIKX0DER"],
            },
        ).raise_for_status()  # fmt: skip
        yield handle


def test_the_sync_opens_the_token_for_amazon_and_a_wrong_key_stops_it_in_one_line(
    sandbox: SandboxHandle, cli_env: dict[str, str], clean_db: Engine
) -> None:
    key = new_key()
    env = {
        **env_with(cli_env, key),
        "AMAZON_REGION": "SANDBOX",
        "SPAPI_ENDPOINT": sandbox.base_url,
        "SANDBOX_RATE_FACTOR": "500",
    }
    add(env, "shop")
    synced = run(env, "sync", "shop")
    assert synced.exit_code == 0, synced.output  # Login with Amazon took the opened token
    assert "orders in" in synced.output
    wrong = run({**env, "SECRETS_KEY": new_key()}, "sync", "shop")
    assert wrong.exit_code == 2
    assert wrong.output.strip().splitlines() == [
        "error: SECRETS_KEY: the refresh token of account 'shop' was encrypted with a key "
        "that is not in SECRETS_KEY (set SECRETS_KEY to the key it was written with, first "
        "or after the current one)"
    ]


def test_the_data_folders_key_rotates_with_new_key(
    cli_env: dict[str, str], clean_db: Engine
) -> None:
    if networked(cli_env.get("DATABASE_URL", "")):
        pytest.skip(
            "this run's DATABASE_URL is a server over the network, for which the data folder's "
            "key is refused by design; the embedded run (make test) covers the key file"
        )
    env = {**cli_env, "SECRETS_KEY": ""}
    add(env, "shop")
    path = key_file(Path(env["DATA_DIR"]))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    (first,) = [line for line in path.read_text().splitlines() if line]
    rotated = run(env, "secrets", "rotate", "--new-key")
    assert rotated.exit_code == 0, rotated.output
    assert "1 re-encrypted" in rotated.output
    keys = [line for line in path.read_text().splitlines() if line]
    assert len(keys) == 2 and keys[1] == first
    assert Keyring((keys[0],), "the file").open(stored(clean_db)["shop"]) == TOKEN
    with_env = run(env_with(cli_env, os.environ["SECRETS_KEY"]), "secrets", "rotate", "--new-key")
    assert with_env.exit_code == 2 and with_env.output.startswith("error: --new-key: SECRETS_KEY")
