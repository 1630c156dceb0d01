"""``run.json``: written whole and private, read back as it was, and recognised as stale when
its process is gone or its pid now belongs to another process."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from infra.runstate import (
    RunState,
    is_alive,
    live_run_state,
    process_started_at,
    read_run_state,
    remove_run_state,
    run_state_path,
    write_run_state,
)


def _state(pid: int | None = None, started: float | None = None) -> RunState:
    pid = os.getpid() if pid is None else pid
    return RunState(
        pid=pid,
        pid_started_at=process_started_at(pid) or 0.0 if started is None else started,
        started_at="2026-12-01T10:00:00+00:00",
        data_dir="/data",
        database_url="postgresql+psycopg://postgres:@/amazon_channel?host=/data/postgres",
        redis_url="unix:///data/redis/redis.sock?db=0",
        broker_url="redis+socket:///data/redis/redis.sock",
        sandbox_url="http://127.0.0.1:8765",
        web_url="http://127.0.0.1:8000",
        docs_url="http://127.0.0.1:8000/docs",
        metrics_url="http://127.0.0.1:8000/metrics",
        flower_url="http://127.0.0.1:5555",
        api_token="demo-token",
    )


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_written_whole_private_and_read_back_as_it_was(tmp_path: Path) -> None:
    state = _state()
    path = write_run_state(tmp_path / "data", state)
    assert path == run_state_path(tmp_path / "data")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_run_state(tmp_path / "data") == state
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["run.json"], "no temporary left"


def test_the_run_of_a_live_process_is_live(tmp_path: Path) -> None:
    write_run_state(tmp_path, _state())
    assert live_run_state(tmp_path) == _state()


def test_a_gone_process_or_a_reused_pid_is_stale(tmp_path: Path) -> None:
    assert not is_alive(_state(pid=_dead_pid(), started=1.0))
    own = process_started_at(os.getpid())
    assert own is not None
    reused = _state(started=own - 3600)  # our pid, but a process that started an hour earlier
    assert not is_alive(reused)
    write_run_state(tmp_path, reused)
    assert live_run_state(tmp_path) is None
    assert read_run_state(tmp_path) == reused, "a stale file is left for the next run"


def test_no_file_half_a_file_or_another_shape_is_no_run(tmp_path: Path) -> None:
    assert read_run_state(tmp_path) is None
    run_state_path(tmp_path).write_text('{"pid": 12')
    assert read_run_state(tmp_path) is None
    run_state_path(tmp_path).write_text('{"pid": 12, "web_url": "x"}')
    assert read_run_state(tmp_path) is None
    run_state_path(tmp_path).write_text("[1, 2]")
    assert read_run_state(tmp_path) is None


def test_a_run_removes_its_own_file_only(tmp_path: Path) -> None:
    write_run_state(tmp_path, _state(pid=_dead_pid(), started=1.0))
    remove_run_state(tmp_path, os.getpid())
    assert read_run_state(tmp_path) is not None, "another run's file stays"
    write_run_state(tmp_path, _state())
    remove_run_state(tmp_path, os.getpid())
    assert not run_state_path(tmp_path).exists()
    remove_run_state(tmp_path, os.getpid())  # already gone: nothing to do
