"""``amazon-channel status`` on a real store with known rows: healthy exits 0; a paused
account, a stale watermark or a failure waiting exits 1 and says why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.dialects.postgresql import insert

from domain.orders import AmazonOrder
from infra.db.accounts_changes import pause_account
from infra.db.tables import Fulfilment, SyncCursor
from tests.integration.workers.fulfilments import cli
from workers import bootstrap

pytestmark = pytest.mark.integration


def _synced(container: bootstrap.Container, account_id: int, ago: timedelta) -> None:
    moment = datetime.now(UTC) - ago
    values = {"watermark": moment, "last_success_at": moment}
    with container.engine.begin() as conn:
        conn.execute(
            insert(SyncCursor)
            .values(account_id=account_id, scope="orders", **values)
            .on_conflict_do_update(index_elements=["account_id", "scope"], set_=values)
        )


def _status(cli_env: dict[str, str], *args: str) -> tuple[int, str]:
    result = cli(cli_env, "status", *args)
    return result.exit_code, result.output


def test_a_synced_account_with_nothing_waiting_is_healthy(
    container: bootstrap.Container, account_id: int, order: AmazonOrder, cli_env: dict[str, str]
) -> None:
    _synced(container, account_id, timedelta(minutes=2))
    code, output = _status(cli_env)
    assert code == 0, output
    assert "healthy" in output and "UNHEALTHY" not in output
    assert "acme" in output and "active" in output
    assert "queues (messages waiting): ingest" in output

    code, output = _status(cli_env, "--json")
    assert code == 0, output
    body = json.loads(output)
    assert body["healthy"] is True and body["problems"] == []
    assert [a["account"] for a in body["sections"]["accounts"]] == ["acme"]
    assert 100 <= body["sections"]["accounts"][0]["sync_lag_s"] < 900
    assert set(body["sections"]["queues"]) >= {"ingest", "fulfil", "refund", "events"}
    assert all(isinstance(n, int) for n in body["sections"]["queues"].values())
    assert body["sections"]["failures"]["waiting"] == 0
    # The order's event waits for a subscriber (none configured): a note, not a backlog.
    assert body["sections"]["outbox"]["undispatched"] >= 1
    assert any("subscriber" in note for note in body["notes"])


def test_a_paused_account_is_unhealthy_and_says_why(
    container: bootstrap.Container, account_id: int, cli_env: dict[str, str]
) -> None:
    _synced(container, account_id, timedelta(minutes=1))
    pause_account(container.sessions, account_id, "invalid_grant: the refresh token was revoked")
    code, output = _status(cli_env)
    assert code == 1, output
    assert "UNHEALTHY" in output
    assert "account 'acme' is paused: invalid_grant: the refresh token was revoked" in output


def test_a_stale_watermark_is_unhealthy_over_the_threshold_only(
    container: bootstrap.Container, account_id: int, cli_env: dict[str, str]
) -> None:
    _synced(container, account_id, timedelta(minutes=40))
    code, output = _status(cli_env)
    assert code == 1, output
    assert "account 'acme': sync lag 40m" in output and "is over 15m00s" in output

    code, output = _status(cli_env, "--max-sync-lag", "60", "--json")
    assert code == 0, output
    assert json.loads(output)["healthy"] is True


def test_a_failed_fulfilment_is_a_failure_waiting(
    container: bootstrap.Container,
    account_id: int,
    order: AmazonOrder,
    cli_env: dict[str, str],
    engine: Engine,
) -> None:
    _synced(container, account_id, timedelta(minutes=1))
    shipped_at = (order.purchased_at + timedelta(hours=20)).isoformat()
    result = cli(
        cli_env, "fulfil", "acme", order.amazon_order_id, "--id", "F-1",
        "--shipped-at", shipped_at, "--carrier", "UPS", "--tracking", "1Z999AA10123456784",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with engine.begin() as conn:  # the command closed the container's engine
        conn.execute(update(Fulfilment).values(state="failed", failed_at=datetime.now(UTC)))
    code, output = _status(cli_env, "--json")
    assert code == 1, output
    found = json.loads(output)
    assert found["sections"]["failures"]["fulfilments_failed"] == 1
    assert any("1 failure(s) waiting" in p for p in found["problems"])


def test_bad_thresholds_are_one_line_errors(cli_env: dict[str, str]) -> None:
    code, output = _status(cli_env, "--max-sync-lag", "0")
    assert code == 2 and "Traceback" not in output
