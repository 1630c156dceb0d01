"""What a line is about, bound once: a task's id and name, its account and Amazon order id (from
its arguments or bound when the task finds them), a web request's id; JSON keys with
``LOG_JSON``, and gone when the task or the request is over."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.logging import bind_order, bind_task, bound_request, configure_logging, unbind_task
from workers.app import task_subject


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("INFO", json=True, process="fulfil")
    try:
        yield out
    finally:
        unbind_task()
        root.handlers[:], root.level = saved


def _logged(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_tasks_lines_carry_its_id_name_account_and_order_until_it_ends(
    lines: io.StringIO,
) -> None:
    log = logging.getLogger("infra.amazon.http")
    bind_task("t-1", "fulfil.confirm")
    bind_order(7, "113-0000000-0000001")
    log.info("spapi call", extra={"operation": "ordersV0.confirmShipment"})
    bind_order(amazon_order_id="113-0000000-0000002")  # the account stays as it was
    log.info("next")
    unbind_task()
    log.info("between tasks")
    first, second, after = _logged(lines)
    assert first["task_id"] == "t-1" and first["task"] == "fulfil.confirm"
    assert (first["account"], first["amazon_order_id"]) == (7, "113-0000000-0000001")
    assert first["operation"] == "ordersV0.confirmShipment" and first["process"] == "fulfil"
    assert (second["account"], second["amazon_order_id"]) == (7, "113-0000000-0000002")
    assert not {"task_id", "task", "account", "amazon_order_id"} & set(after)


def test_a_new_task_starts_with_nothing_of_the_last(lines: io.StringIO) -> None:
    bind_task("t-1", "fulfil.confirm")
    bind_order(7, "113-0000000-0000001")
    bind_task("t-2", "fulfil.sweep")  # the last one's postrun never came (a crash)
    logging.getLogger("x").info("sweep")
    (line,) = _logged(lines)
    assert line["task_id"] == "t-2" and "account" not in line and "amazon_order_id" not in line


def test_a_requests_lines_carry_its_id_and_only_its_own(lines: io.StringIO) -> None:
    """Each request runs in a context of its own (uvicorn's task per request): its id is
    bound there, and neither the other request nor what follows sees it."""

    def answer(request_id: str, inner: Callable[[], None]) -> None:
        with bound_request(request_id):
            inner()  # the other request, in its own context, meanwhile
            logging.getLogger("uvicorn.access").info("GET /v1/fulfilments 200")

    def second() -> None:
        contextvars.copy_context().run(answer, "b" * 32, lambda: None)

    contextvars.copy_context().run(answer, "a" * 32, second)
    logging.getLogger("x").info("after")
    inner, outer, after = _logged(lines)
    assert (inner["request_id"], outer["request_id"]) == ("b" * 32, "a" * 32)
    assert "request_id" not in after


def intake(message: dict[str, Any]) -> None: ...


def sync_account(account_id: int) -> None: ...


def confirm(fulfilment_id: int) -> None: ...


def test_the_account_and_order_come_from_the_tasks_arguments() -> None:
    message = {"account": "acme-us", "amazon_order_id": "113-1234567-1234567", "lines": []}
    assert task_subject(intake, [message], {}) == ("acme-us", "113-1234567-1234567")
    assert task_subject(sync_account, [], {"account_id": 3}) == (3, None)
    assert task_subject(sync_account, [3], {}) == (3, None)
    assert task_subject(confirm, [12], {}) == (None, None)  # the task binds them when it knows


@pytest.mark.parametrize(
    "args",
    [
        [],  # no message at all
        ["not a mapping"],
        [{"account": "x" * 500, "amazon_order_id": ["a list"]}],
        [{"account": True}],
        [1, 2, 3],  # does not fit the signature
    ],
)
def test_arguments_that_name_nothing_bind_nothing(args: list[Any]) -> None:
    assert task_subject(intake, args, {}) == (None, None)
