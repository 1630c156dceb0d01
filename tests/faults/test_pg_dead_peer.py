"""A PostgreSQL gone without a word (a dead host, a partition: no FIN, no RST) does not hold a
call forever: the engine's keepalives and ``tcp_user_timeout`` end the connection and the call
raises OperationalError, a transient error its task retries. Issue 16: a fulfil worker's only
slot waited in a DB call from a restart until its shutdown, 100 s later.

The link is cut for real, in a network namespace of its own (``tests.faults.dead_peer``): the
loopback under the connection taken down. Without the bound the calls wait until the
subprocess's timeout, and the test fails."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ROOT = Path(__file__).resolve().parents[2]
# Generous: the bound is about 15-20 s per call; a cluster's initdb is a few seconds more.
HANG_S = 200


def can_unshare() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def is_outcome(line: str) -> bool:
    return line.startswith('{"case"')


def test_calls_on_a_dead_link_raise_instead_of_waiting_forever(tmp_path: Path) -> None:
    if not can_unshare():
        pytest.skip("needs `unshare -n` (a network namespace) and `ip`")
    try:
        run = subprocess.run(
            ["unshare", "-n", sys.executable, "-m", "tests.faults.dead_peer", str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=HANG_S,
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"a call on the dead link still waited after {HANG_S} s: {hung.stdout!r}")
    assert run.returncode == 0, run.stderr[-3000:]
    outcomes = {
        line["case"]: line for line in map(json.loads, filter(is_outcome, run.stdout.splitlines()))
    }
    print(json.dumps(outcomes, indent=1))  # how long each took, for the README (-s)
    assert set(outcomes) == {"mid-query", "sending"}
    for outcome in outcomes.values():
        assert outcome["raised"] == "OperationalError", outcome
