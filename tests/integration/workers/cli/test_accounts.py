"""``accounts``: a refused account names the field, in one line; edit, disable, enable, remove
and import; an account whose refresh token Amazon refuses is paused, not retried."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.tables import Order, SellerAccount
from workers.cli import main

pytestmark = pytest.mark.integration

SE = "A2NODRKZP88ZB9"
DE = "A1PA6795UKMFR9"
TOKEN = {"LWA_REFRESH_TOKEN": "Atzr|shop"}


def run(*args: str, env: dict[str, str] | None = None, given: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env or TOKEN, input=given)


def add(name: str, *more: str, env: dict[str, str] | None = None) -> Result:
    return run("accounts", "add", name, "--seller-id", f"S-{name}", *more, env=env)


def test_adding_an_account_with_a_bad_refresh_token_names_the_field(clean_db: Engine) -> None:
    result = add(
        "shop", "--region", "SANDBOX", "--marketplace", "US", env={"LWA_REFRESH_TOKEN": "x"}
    )
    assert result.exit_code == 2
    assert "refresh_token: a Login with Amazon refresh token starts with 'Atzr|'" in result.output


def test_a_marketplace_that_does_not_exist_is_refused(clean_db: Engine) -> None:
    result = add("shop", "--region", "EU", "--client-id", "app", "--marketplace", "A1NOPE")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: marketplaces: 'A1NOPE' is not one of Amazon's marketplaces"
    )


def test_a_marketplace_of_another_region_is_refused(clean_db: Engine) -> None:
    result = add("shop", "--region", "NA", "--client-id", "app", "--marketplace", "DE")
    assert result.exit_code == 2
    assert "error: marketplaces: DE (Amazon.de) is served by the EU region, not NA" in result.output


def test_a_real_region_without_a_client_id_is_refused(clean_db: Engine) -> None:
    result = add("shop", "--region", "EU", "--marketplace", DE)
    assert result.exit_code == 2
    assert "error: client_id: the EU region needs the LWA client id" in result.output
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SellerAccount)).scalar() == 0


def test_lwa_client_id_in_the_environment_is_enough(clean_db: Engine) -> None:
    env = {**TOKEN, "LWA_CLIENT_ID": "amzn1.application-oa2-client.mine"}
    result = add("shop", "--region", "EU", "--marketplace", DE, env=env)
    assert result.exit_code == 0, result.output


def test_an_eu_seller_holds_several_marketplaces_sweden_among_them(clean_db: Engine) -> None:
    result = add(
        "nordic", "--region", "EU", "--client-id", "app",
        "--marketplace", "DE", "--marketplace", SE, "--marketplace", "FR",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    listed = run("accounts", "list")
    assert "DE SE FR" in listed.output
    assert "active" in listed.output


def test_since_sets_where_the_first_sync_starts(clean_db: Engine) -> None:
    assert (
        add("shop", "--region", "SANDBOX", "--marketplace", "US", "--since", "2026-11-01").exit_code
        == 0
    )
    with clean_db.connect() as conn:
        since = conn.execute(select(SellerAccount.sync_since)).scalar_one()
    assert since is not None
    assert since.isoformat() == "2026-11-01T00:00:00+00:00"
    refused = add("other", "--region", "SANDBOX", "--marketplace", "US", "--since", "soon")
    assert refused.exit_code == 2
    assert "error: since:" in refused.output


def test_edit_rechecks_the_account_as_a_whole(clean_db: Engine) -> None:
    assert add("shop", "--region", "EU", "--client-id", "app", "--marketplace", "DE").exit_code == 0
    moved = run("accounts", "edit", "shop", "--region", "NA")
    assert moved.exit_code == 2
    assert (
        "error: marketplaces: A1PA6795UKMFR9 (Amazon.de) is served by the EU region" in moved.output
    )
    both = run(
        "accounts", "edit", "shop", "--region", "NA", "--marketplace", "US", "--name", "us-shop"
    )
    assert both.exit_code == 0, both.output
    assert "us-shop" in run("accounts", "list").output


def test_disable_enable_and_remove_keep_the_account(clean_db: Engine) -> None:
    assert add("shop", "--region", "SANDBOX", "--marketplace", "US").exit_code == 0
    assert "disabled" in run("accounts", "disable", "shop").output
    assert "disabled" in run("accounts", "list").output
    assert "active" in run("accounts", "enable", "shop").output
    assert run("accounts", "remove", "shop").exit_code == 0
    assert "shop" not in run("accounts", "list").output
    assert "removed" in run("accounts", "list", "--all").output
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SellerAccount)).scalar() == 1


def test_purge_asks_first_and_then_deletes_everything_of_it(
    clean_db: Engine, account_id: int, order: str
) -> None:
    declined = run("accounts", "remove", str(account_id), "--purge", given="n\n")
    assert declined.exit_code == 1
    assert "nothing deleted" in declined.output
    purged = run("accounts", "remove", str(account_id), "--purge", "--yes")
    assert purged.exit_code == 0, purged.output
    assert "orders" in purged.output
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Order)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(SellerAccount)).scalar() == 0


def test_import_reports_every_refused_row_and_imports_nothing(
    clean_db: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "sellers.csv"
    path.write_text(
        "name,seller_id,region,marketplaces,client_id,refresh_token,since\n"
        "one,S1,EU,DE;SE,app,Atzr|one,30d\n"
        "two,S2,NA,DE,app,Atzr|two,\n"
        "three,S3,EU,FR,,Atzr|three,\n"
        "one,S4,EU,IT,app,Atzr|four,\n"
    )
    result = run("accounts", "import", str(path))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("error: row 3: marketplaces: DE (Amazon.de) is served by the EU")
    assert lines[1].startswith("error: row 4: client_id: the EU region needs the LWA client id")
    assert lines[2] == "error: row 5: name: 'one' is on row 2"
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SellerAccount)).scalar() == 0


def test_import_adds_every_row_and_is_harmless_twice(clean_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "sellers.csv"
    rows = "".join(f"seller-{n},S{n},EU,DE SE,app,Atzr|t{n},2026-11-01\n" for n in range(300))
    path.write_text("name,seller_id,region,marketplaces,client_id,refresh_token,since\n" + rows)
    assert run("accounts", "import", str(path)).output.strip() == "imported 300 account(s)"
    again = run("accounts", "import", str(path))
    assert again.exit_code == 2
    assert "error: row 2: name: an account called 'seller-0' exists" in again.output
    skipped = run("accounts", "import", str(path), "--skip-existing")
    assert skipped.output.strip() == "imported 0 account(s), skipped 300 that exist already"
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SellerAccount)).scalar() == 300


def test_import_reads_json_lines(clean_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "sellers.jsonl"
    path.write_text(
        '{"name": "a", "seller_id": "S1", "region": "SANDBOX", "marketplaces": ["US", "SE"],'
        ' "refresh_token": "Atzr|a"}\n'
    )
    assert run("accounts", "import", str(path)).output.strip() == "imported 1 account(s)"
    assert "US SE" in run("accounts", "list").output


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=500) as handle:
        monkeypatch.setenv("AMAZON_REGION", "SANDBOX")
        monkeypatch.setenv("SPAPI_ENDPOINT", handle.base_url)
        monkeypatch.setenv("SANDBOX_RATE_FACTOR", "500")
        yield handle


def test_a_refused_refresh_token_pauses_the_account_until_enabled(
    sandbox: SandboxHandle, clean_db: Engine
) -> None:
    refused = {"LWA_REFRESH_TOKEN": "Atzr|revoked"}
    assert add("shop", "--region", "SANDBOX", "--marketplace", "US", env=refused).exit_code == 0
    first = run("sync", "shop")
    assert "invalid_grant" in first.output, first.output
    listed = run("accounts", "list")
    assert "paused: invalid_grant: The request has an invalid grant parameter" in listed.output
    # Amazon would take the token now, but the account is not tried again by itself.
    httpx.post(
        f"{sandbox.base_url}/_sandbox/sellers",
        json={
            "seller_id": "S-shop", "refresh_token": "Atzr|revoked",
            "client_id": DEMO_SELLER.client_id, "client_secret": DEMO_SELLER.client_secret,
            "marketplace_ids": ["ATVPDKIKX0DER"],
        },
    ).raise_for_status()  # fmt: skip
    again = run("sync", "shop")
    assert again.output.startswith("the account is paused: invalid_grant"), again.output
    assert sandbox.state.call_log("orders2026.searchOrders") == []
    assert "active" in run("accounts", "enable", "shop").output
    synced = run("sync", "shop")
    assert synced.exit_code == 0, synced.output
    assert "orders in" in synced.output
    assert "active" in run("accounts", "list").output
