"""``sandbox``: serving keeps the state in the data folder (a file it cannot read stops it with
one line); ``sandbox reset`` starts Amazon afresh, through a running sandbox's control API or by
removing the kept state, then says what the store still holds."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.server import running_sandbox
from tests.integration.infra.amazon.sandbox.sandbox_process import free_port
from workers.cli import main
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration


def test_a_kept_state_it_cannot_read_stops_the_sandbox_with_one_line(tmp_path: Path) -> None:
    kept = tmp_path / "sandbox" / "state.pickle"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"\x00 damaged")
    result = CliRunner().invoke(main, ["sandbox", "--port", "1"], env={"DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert result.output.startswith(f"error: cannot read the sandbox's saved state {kept}: ")
    assert "`amazon-channel sandbox reset` starts Amazon afresh" in result.output
    assert result.output.count("\n") == 1


def test_a_state_file_and_in_memory_together_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["sandbox", "--in-memory", "--state-file", str(tmp_path / "s.pickle")]
    )
    assert result.exit_code == 2
    assert "error: --state-file and --in-memory: give one or the other" in result.output


def test_reset_with_no_sandbox_running_removes_the_kept_state_and_shows_the_store(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    ensure_demo_account(session_factory)
    kept = tmp_path / "sandbox" / "state.pickle"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"whatever was kept")
    # No sandbox answers at the configured URL either (a port nothing listens on).
    env = {"DATA_DIR": str(tmp_path), "SANDBOX_PORT": str(free_port()), "SPAPI_ENDPOINT": ""}

    result = CliRunner().invoke(main, ["sandbox", "reset"], env=env)
    assert result.exit_code == 0, result.output
    assert f"sandbox reset: removed {kept}; the next start is a fresh Amazon" in result.output
    assert not kept.exists()
    assert "the store still holds" in result.output
    assert any(line.split() == ["demo", "0", "0", "0"] for line in result.output.splitlines())

    again = CliRunner().invoke(main, ["sandbox", "reset"], env=env)
    assert again.exit_code == 0, again.output
    assert f"nothing kept at {kept}; Amazon is fresh already" in again.output


def test_reset_asks_a_running_sandbox_to_start_afresh(tmp_path: Path, clean_db: Engine) -> None:
    kept = tmp_path / "sandbox" / "state.pickle"
    with running_sandbox(rate_factor=0, state_file=kept) as sandbox:
        created = httpx.post(f"{sandbox.base_url}/_sandbox/orders", json={})
        assert created.status_code == 201, created.text

        result = CliRunner().invoke(main, ["sandbox", "reset"], env={"DATA_DIR": str(tmp_path)})
        assert result.exit_code == 0, result.output
        assert f"the running sandbox at {sandbox.base_url}" in result.output
        assert httpx.get(f"{sandbox.base_url}/_sandbox/state").json()["orders"] == 0
    assert kept.exists()  # rewritten with the fresh state, which the next start loads


def test_reset_also_starts_afresh_a_sandbox_in_memory_at_the_configured_url(
    tmp_path: Path, clean_db: Engine
) -> None:
    with running_sandbox(rate_factor=0) as sandbox:
        assert httpx.post(f"{sandbox.base_url}/_sandbox/orders", json={}).status_code == 201
        port = sandbox.base_url.rsplit(":", 1)[1]
        env = {"DATA_DIR": str(tmp_path), "SANDBOX_PORT": port, "SPAPI_ENDPOINT": ""}

        result = CliRunner().invoke(main, ["sandbox", "reset"], env=env)
        assert result.exit_code == 0, result.output
        assert f"and the sandbox running at http://127.0.0.1:{port} starts afresh" in result.output
        assert httpx.get(f"{sandbox.base_url}/_sandbox/state").json()["orders"] == 0
