"""The supervisor hands the servers' URLs to its children through their own environment and
leaves its own alone; it starts the refund and payout workers only for work; a second shell
reaches a running system through its run state."""

from __future__ import annotations

import os
import sys

from infra.runstate import RunState
from infra.settings import Settings, load_settings
from workers.supervisor import (
    Child,
    ProcessSpec,
    Supervisor,
    child_environment,
    procfile_processes,
    should_start_lazy,
)

DATABASE_URL = "postgresql+psycopg://app@db.internal/channel"
REDIS_URL = "redis://cache.internal:6379/1"
BROKER_URL = "redis://cache.internal:6379/0"


def _given(**more: object) -> Settings:
    return load_settings(
        database_url=DATABASE_URL, redis_url=REDIS_URL, broker_url=BROKER_URL, **more
    )


def test_children_get_the_urls_and_extras_in_their_own_environment() -> None:
    before = dict(os.environ)
    env = child_environment(_given(), API_TOKENS="demo-token")
    assert env["DATABASE_URL"] == DATABASE_URL
    assert env["REDIS_URL"] == REDIS_URL
    assert env["BROKER_URL"] == BROKER_URL
    assert env["API_TOKENS"] == "demo-token"
    assert dict(os.environ) == before, "the supervisor's own environment is untouched"


def test_every_procfile_process_runs_this_interpreters_cli() -> None:
    for spec in procfile_processes():
        assert spec.argv[1:3] == ("-m", "workers.cli"), spec


def test_refund_payout_and_notifications_workers_start_lazily_the_others_at_once() -> None:
    lazy = {spec.queue for spec in procfile_processes() if spec.lazy}
    assert lazy == {"refund", "payout", "notifications"}
    eager = {spec.queue for spec in procfile_processes() if spec.queue and not spec.lazy}
    assert eager == {"ingest", "fulfil", "events"}


def test_a_lazy_worker_starts_once_its_queue_has_work_and_never_asks_again() -> None:
    spec = next(s for s in procfile_processes() if s.queue == "refund")
    child = Child(spec, wanted=False)
    assert not should_start_lazy(child, lambda queue: False)
    assert should_start_lazy(child, lambda queue: queue == "refund")
    child.wanted = True
    assert not should_start_lazy(child, lambda queue: True), "started once, kept"
    eager = Child(next(s for s in procfile_processes() if s.queue == "ingest"))
    assert not should_start_lazy(eager, lambda queue: True)


def test_a_second_shell_takes_the_running_systems_servers_and_sandbox() -> None:
    from workers.system import configured, reaching

    state = _run_state()
    own = load_settings(database_url="", redis_url="", broker_url="")
    assert not configured(own)
    reached = reaching(own, state)
    assert (reached.database_url, reached.redis_url, reached.broker_url) == (
        DATABASE_URL,
        REDIS_URL,
        BROKER_URL,
    )
    assert reached.resolved_spapi_endpoint() == "http://127.0.0.1:20001"
    assert reached.resolved_lwa_token_url() == "http://127.0.0.1:20001/auth/o2/token"
    assert configured(_given())


def test_the_ready_block_lists_what_a_newcomer_needs_then_ready() -> None:
    from workers.system import ready_block

    lines = ready_block(_run_state())
    text = "\n".join(lines)
    for expected in (
        "http://127.0.0.1:20002",
        "http://127.0.0.1:20002/docs",
        "http://127.0.0.1:20002/metrics",
        "http://127.0.0.1:20003",
        "http://127.0.0.1:20001",
        "export TOKEN=demo-token",
        "/data/folder",
    ):
        assert expected in text
    assert lines[-1] == "ready"


def _run_state() -> RunState:
    return RunState(
        pid=1,
        pid_started_at=0.0,
        started_at="2026-12-01T10:00:00+00:00",
        data_dir="/data/folder",
        database_url=DATABASE_URL,
        redis_url=REDIS_URL,
        broker_url=BROKER_URL,
        sandbox_url="http://127.0.0.1:20001",
        web_url="http://127.0.0.1:20002",
        docs_url="http://127.0.0.1:20002/docs",
        metrics_url="http://127.0.0.1:20002/metrics",
        flower_url="http://127.0.0.1:20003",
        api_token="demo-token",
    )


def test_a_child_that_refuses_to_start_stops_the_run_with_its_status() -> None:
    """Exit 2 is a refusal (a setting or kept state it cannot start with): restarting it would
    only refuse again, so everything stops and the run exits 2."""
    sleeper = ProcessSpec("web", (sys.executable, "-c", "import time; time.sleep(60)"))
    refuser = ProcessSpec("sandbox", (sys.executable, "-c", "raise SystemExit(2)"))
    supervisor = Supervisor([refuser, sleeper], dict(os.environ), grace_s=5)

    code = supervisor.run()

    assert code == 2
    assert all(c.process is None or c.process.poll() is not None for c in supervisor.children)
    assert supervisor.children[0].restarts == 0
