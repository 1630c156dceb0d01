"""Quiet when idle: housekeeping that found nothing logs at DEBUG, Celery's own lines for it
included; everything else keeps its level. One format, with the process's name on each line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from infra.logging import Demote, configure_logging
from workers import app as celery_app
from workers.app import quiet_record
from workers.schedule import found_nothing


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The process's logging as a worker configures it, into a buffer."""
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("INFO", process="fulfil", quiet=quiet_record)
    try:
        yield out
    finally:
        root.handlers[:], root.level = saved


def _received(name: str) -> None:
    context = {"name": name, "id": "t-1"}
    logging.getLogger("celery.worker.strategy").info(
        "Task %(name)s[%(id)s] received", context, extra={"data": context}
    )


def _succeeded(name: str, task_id: str, result: Any) -> None:
    celery_app._note_idle_run(sender=_FakeTask(name, task_id), result=result)
    context = {"name": name, "id": task_id, "return_value": repr(result), "runtime": 0.01}
    logging.getLogger("celery.app.trace").info(
        "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s", context
    )


class _FakeTask:
    """What Celery's ``task_success`` signal hands over: the task, its request's id."""

    def __init__(self, name: str, task_id: str) -> None:
        self.name = name
        self.request = type("Request", (), {"id": task_id})()


@pytest.mark.parametrize(
    ("name", "result"),
    [
        ("fulfil.sweep", 0),
        ("fulfil.read_back", 0),
        (
            "fulfil.check_deadlines",
            {"skipped": False, "checked": 40, "approaching": 0, "missed": 0},
        ),
        ("refund.sweep", {"built": [], "queued": []}),
        ("events.dispatch", {"events": 0, "deliveries": 0}),
        ("events.deliver", {"claimed": 0, "delivered": 0, "more": False}),
        ("ingest.sync_all", 3),
        ("ingest.sync_account", {"skipped": False, "pages": 1, "orders": 12, "created": 0}),
    ],
)
def test_housekeeping_that_found_nothing(name: str, result: object) -> None:
    assert found_nothing(name, result)


@pytest.mark.parametrize(
    ("name", "result"),
    [
        ("fulfil.sweep", 2),
        ("fulfil.check_deadlines", {"checked": 40, "approaching": 1, "missed": 0}),
        ("refund.sweep", {"built": [7], "queued": []}),
        ("ingest.sync_account", {"pages": 1, "orders": 12, "created": 1}),
        ("fulfil.confirm", None),  # not housekeeping: always at its own level
    ],
)
def test_work_done_or_not_housekeeping(name: str, result: object) -> None:
    assert not found_nothing(name, result)


def test_idle_housekeeping_is_silent_at_info_and_work_is_not(logs: io.StringIO) -> None:
    _received("fulfil.sweep")
    _succeeded("fulfil.sweep", "t-1", 0)
    assert logs.getvalue() == ""
    _succeeded("fulfil.sweep", "t-2", 3)
    _received("fulfil.confirm")
    lines = logs.getvalue().splitlines()
    assert len(lines) == 2
    assert "fulfil.sweep[t-2] succeeded" in lines[0]
    assert "fulfil.confirm[t-1] received" in lines[1]


def test_every_line_names_its_process(logs: io.StringIO) -> None:
    logging.getLogger("workers.anything").warning("something happened")
    (line,) = logs.getvalue().splitlines()
    assert "fulfil  something happened" in line


def test_at_debug_the_quiet_lines_are_there_marked_debug(logs: io.StringIO) -> None:
    logging.getLogger().setLevel(logging.DEBUG)
    _received("events.dispatch")
    (line,) = logs.getvalue().splitlines()
    assert "[debug" in line and "events.dispatch[t-1] received" in line


def test_a_failing_quiet_test_loses_no_record() -> None:
    def broken(_record: logging.LogRecord) -> bool:
        raise RuntimeError("bug")

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "kept", None, None)
    assert Demote(broken).filter(record)
    assert record.levelno == logging.INFO


def test_uvicorns_steps_are_quiet_its_address_is_not(logs: io.StringIO) -> None:
    uvicorn = logging.getLogger("uvicorn.error")
    uvicorn.info("Started server process [%d]", 42)
    uvicorn.info("Application startup complete.")
    uvicorn.info("Uvicorn running on %s://%s:%d (Press CTRL+C to quit)", "http", "127.0.0.1", 1)
    (line,) = logs.getvalue().splitlines()
    assert "Uvicorn running on http://127.0.0.1:1" in line


def test_an_amazon_call_outside_housekeeping_keeps_its_level(logs: io.StringIO) -> None:
    logging.getLogger("infra.amazon.http").info(
        "spapi call", extra={"status": 200, "error": None, "operation": "orders.getOrder"}
    )
    assert "spapi call" in logs.getvalue()


def test_uvicorns_steps_with_their_pid_in_the_message_are_quiet_too(logs: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info("Terminated child process [4242]")
    assert logs.getvalue() == ""


def test_a_housekeeping_tasks_successful_amazon_call_is_quiet(logs: io.StringIO) -> None:
    http = logging.getLogger("infra.amazon.http")
    celery_app._note_running(sender=_FakeTask("ingest.sync_account", "t-9"))
    try:
        http.info("spapi call", extra={"status": 200, "error": None})
        assert logs.getvalue() == ""
        http.info("spapi call", extra={"status": 429, "error": "QuotaExceeded"})
        assert "spapi call" in logs.getvalue(), "a throttle keeps its level"
    finally:
        celery_app._note_done()


def test_a_successful_probe_is_quiet_a_failing_one_and_api_calls_are_not(
    logs: io.StringIO,
) -> None:
    access = logging.getLogger("uvicorn.access")
    line = '%s - "%s %s HTTP/%s" %d'
    access.info(line, "127.0.0.1:1", "GET", "/healthz", "1.1", 200)
    access.info(line, "127.0.0.1:1", "GET", "/metrics?name=x", "1.1", 200)
    access.info(line, "127.0.0.1:1", "GET", "/healthz", "1.1", 503)
    access.info(line, "127.0.0.1:1", "POST", "/v1/fulfilments", "1.1", 201)
    lines = logs.getvalue().splitlines()
    assert len(lines) == 2
    assert '"GET /healthz HTTP/1.1" 503' in lines[0]
    assert '"POST /v1/fulfilments HTTP/1.1" 201' in lines[1]
