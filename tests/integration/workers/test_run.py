"""``amazon-channel run``'s own code with a real worker under it: run.json while it is up, a CLI
in another folder and shell reaching it with nothing copied, a server that does not answer named
in one line, and Ctrl-C letting a running task finish (Celery's warm shutdown) before ``stopped``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.broker import QueueProbe
from infra.runstate import RunState, live_run_state, process_started_at, write_run_state
from tests.integration.processes import wait_for
from tests.integration.workers.fulfilments import celery_app  # noqa: F401 (a fixture)
from tests.integration.workers.holding import HOLD_TASK

pytestmark = pytest.mark.integration

CHECKOUT = Path(__file__).resolve().parents[3]
SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL", "BROKER_URL")


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def running(child_env: dict[str, str], tmp_path: Path, celery_app: Any) -> Iterator[Running]:  # noqa: F811
    data_dir = tmp_path / "data"
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.workers.holding"],
            env={**child_env, "DATA_DIR": str(data_dir)},
            cwd=CHECKOUT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = Running(process, data_dir, log_path)
    try:
        wait_for(lambda: "\nready\n" in run.log() or process.poll() is not None, 120)
        assert process.poll() is None, run.log()
        yield run
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the run as a person would (its children live in sessions of their own)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _without_servers(env: dict[str, str], data_dir: Path) -> dict[str, str]:
    """Another shell: no server URLs, only the data folder (as the default would find it)."""
    clean = {k: v for k, v in env.items() if k not in SERVER_VARIABLES}
    return {**clean, "DATA_DIR": str(data_dir), "PYTHONPATH": str(CHECKOUT)}


def test_a_cli_in_another_folder_reaches_the_running_system_through_run_json(
    running: Running, child_env: dict[str, str], tmp_path: Path
) -> None:
    state = live_run_state(running.data_dir)
    assert state is not None and state.pid == running.process.pid
    assert state.database_url == child_env["DATABASE_URL"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _cli(["accounts", "list"], _without_servers(child_env, running.data_dir), elsewhere)
    assert done.returncode == 0, done.stderr
    assert "starting the embedded servers" not in done.stderr
    assert not (elsewhere / ".amazon-channel").exists(), "no new database where it ran"


def test_a_server_that_does_not_answer_is_one_line_naming_its_url(
    child_env: dict[str, str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    pid = os.getpid()  # a live process: the run state is taken as current
    write_run_state(data_dir, _unreachable(data_dir, pid, process_started_at(pid) or 0.0))
    done = _cli(["accounts", "list"], _without_servers(child_env, data_dir), tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(
        "error: cannot reach PostgreSQL at postgresql+psycopg://app:***@127.0.0.1:1/channel: "
    ), line
    assert "hidden" not in line


def test_ctrl_c_lets_the_running_task_finish_then_says_stopped(
    running: Running,
    celery_app: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    folder = tmp_path / "task"
    folder.mkdir()
    celery_app.send_task(HOLD_TASK, args=[str(folder)], queue="events")
    wait_for(lambda: (folder / "started").exists(), 60)

    os.kill(running.process.pid, signal.SIGINT)  # what the terminal's Ctrl-C sends
    wait_for(lambda: "stopping 1 processes" in running.log(), 30)
    # The worker has had its SIGTERM; with its pool child killed too the task would end here.
    (folder / "release").touch()
    assert running.process.wait(timeout=60) == 0, running.log()

    assert (folder / "finished").exists(), running.log()
    log = running.log()
    assert "WorkerLostError" not in log
    assert log.rstrip().splitlines()[-1] == "stopped"
    assert not (running.data_dir / "run.json").exists()


def test_the_probe_tells_a_queue_of_sweeps_from_one_with_work(
    celery_app: Any,  # noqa: F811
    broker_url: str,
) -> None:
    probe = QueueProbe(broker_url)
    try:
        sweeps = frozenset({"refund.sweep"})
        assert not probe.has_work("refund", sweeps)
        celery_app.send_task("refund.sweep", queue="refund")
        wait_for(lambda: probe.has_work("refund"), 10)
        assert not probe.has_work("refund", sweeps)
        assert probe.discard("refund", sweeps) == 1, "an unread tick is taken off"
        celery_app.send_task("refund.flush", queue="refund")
        wait_for(lambda: probe.has_work("refund", sweeps), 10)
        assert probe.discard("refund", sweeps) == 0, "work stays"
        assert probe.has_work("refund", sweeps)
    finally:
        probe.close()
        celery_app.control.purge()


def test_run_json_names_everything_a_second_shell_needs(running: Running) -> None:
    data = json.loads((running.data_dir / "run.json").read_text())
    assert data["pid"] == running.process.pid
    assert {"database_url", "redis_url", "broker_url", "sandbox_url", "web_url"} <= set(data)


def _unreachable(data_dir: Path, pid: int, started: float) -> RunState:
    """A run state whose servers do not answer (nothing listens on port 1)."""
    return RunState(
        pid=pid,
        pid_started_at=started,
        started_at="2026-12-01T10:00:00+00:00",
        data_dir=str(data_dir),
        database_url="postgresql+psycopg://app:hidden@127.0.0.1:1/channel",
        redis_url="redis://127.0.0.1:1/0",
        broker_url="redis://127.0.0.1:1/0",
        sandbox_url="",
        web_url="",
        docs_url="",
        metrics_url="",
        flower_url="",
        api_token="",
    )


def test_with_nothing_running_the_cli_says_it_starts_the_servers_and_where(
    child_env: dict[str, str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    # Left by a run that was killed: its process is gone, so its servers are not used.
    write_run_state(data_dir, _unreachable(data_dir, gone.pid, 1.0))
    done = _cli(["accounts", "list"], _without_servers(child_env, data_dir), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == f"starting the embedded servers in {data_dir} ..."
    assert (data_dir / "postgres").is_dir()
