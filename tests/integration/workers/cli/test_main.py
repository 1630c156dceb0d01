"""The command line as a whole: ``python -m workers.cli`` (what the Procfile, the supervisor and
the benchmarks run) lists every group, and ``worker`` takes the queues of ``workers.queues``."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from workers.cli import main
from workers.queues import QUEUES

pytestmark = pytest.mark.integration


def test_python_dash_m_runs_the_same_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line}
    assert listed == {
        *("accounts", "backfill", "beat", "db", "demo", "flower", "fulfil", "fulfilments"),
        *("orders", "run", "sandbox", "status", "sync", "web", "worker"),
        *("refund", "cancel", "refunds", "payouts"),
        *("secrets", "tokens"),
        *("failures", "events", "notifications"),
    }


def test_a_worker_is_started_for_a_queue_of_the_one_list_only() -> None:
    result = CliRunner().invoke(main, ["worker", "nowhere"])
    assert result.exit_code == 2
    for queue in QUEUES:
        assert queue in result.output
