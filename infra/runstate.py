"""``<data folder>/run.json``: what a second shell needs to reach a running ``amazon-channel run``.

The supervisor writes it once everything is up and removes it on a clean stop; a CLI command
with no server URLs in its environment reads it first, so a command typed in another terminal (or
another folder: the data folder does not depend on the working directory) reaches the same
servers and sandbox with nothing copied by hand.

A file left behind by a run that was killed is recognised as stale: its pid is gone, or is now
another process (pids are reused), told apart by the process's start time, which ``psutil`` reads
from the kernel. The file is written whole (a temporary file renamed over it), so a reader never
sees half of one, and readable by its owner only (a ``DATABASE_URL`` may hold a password).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

import psutil

RUN_STATE_FILE = "run.json"
# psutil's start times are rounded (clock ticks); the same process reads back within this.
_START_TIME_SLACK_S = 1.0


@dataclass(frozen=True, slots=True)
class RunState:
    """A running system: its servers' URLs, its web front and the process that runs it."""

    pid: int
    pid_started_at: float  # the supervisor's start time, seconds since the epoch (psutil)
    started_at: str  # when everything was up, ISO 8601 UTC
    data_dir: str
    database_url: str
    redis_url: str
    broker_url: str
    sandbox_url: str  # the SP-API endpoint of the sandbox; empty against Amazon
    web_url: str
    docs_url: str
    metrics_url: str
    flower_url: str
    api_token: str  # the demo token handed out against the sandbox; empty otherwise
    # The notifications queue and its endpoint (the embedded SQS's, or empty against AWS's).
    sqs_queue_url: str = ""
    sqs_endpoint_url: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunState | None:
        """The state the text holds, or None when it is not one (half a file, an old shape)."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.default is MISSING}
        if not isinstance(data, dict) or not required <= set(data):
            return None
        names &= set(data)
        try:
            return cls(**{name: data[name] for name in names})
        except TypeError:
            return None


def run_state_path(data_dir: Path) -> Path:
    return data_dir / RUN_STATE_FILE


def process_started_at(pid: int) -> float | None:
    """The process's start time (seconds since the epoch), None when there is no such process."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


def is_alive(state: RunState) -> bool:
    """The process that wrote ``state`` still runs (not a newer one that took its pid)."""
    started = process_started_at(state.pid)
    return started is not None and abs(started - state.pid_started_at) <= _START_TIME_SLACK_S


def write_run_state(data_dir: Path, state: RunState) -> Path:
    """Write ``run.json`` whole (temporary file, then rename), readable by its owner only."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = run_state_path(data_dir)
    fd, temporary = tempfile.mkstemp(prefix=".run-", suffix=".json", dir=data_dir)
    try:
        with os.fdopen(fd, "w") as out:  # mkstemp's file is 0600 already
            out.write(state.to_json())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return target


def read_run_state(data_dir: Path) -> RunState | None:
    """The state in ``run.json``, whether or not its process still runs; None with no file."""
    try:
        text = run_state_path(data_dir).read_text()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return RunState.from_json(text)


def live_run_state(data_dir: Path) -> RunState | None:
    """The state of the run that is up in ``data_dir``, None when none is (a stale file stays
    where it is: the next run overwrites it)."""
    state = read_run_state(data_dir)
    if state is None or not is_alive(state):
        return None
    return state


def remove_run_state(data_dir: Path, pid: int) -> None:
    """Remove ``run.json`` if it is this process's (a newer run's file is left alone)."""
    state = read_run_state(data_dir)
    if state is not None and state.pid != pid:
        return
    with contextlib.suppress(FileNotFoundError):
        run_state_path(data_dir).unlink()
