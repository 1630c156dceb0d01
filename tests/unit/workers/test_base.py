"""The one retry policy (``workers.base.ChannelTask``): which errors retry, after how long, and
what is logged. Tasks run as a worker runs them (a request that was not called directly) on a
Celery app of their own whose broker is kombu's in-process ``memory://`` transport, so the
message a retry sends can be read back."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis
from celery import Celery
from celery.exceptions import Retry
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError

from infra.amazon.errors import (
    AmazonAuthError,
    AmazonServerError,
    AmazonUnreachable,
    InvalidInput,
    RateLimitTimeout,
    Throttled,
)
from workers.base import (
    PERMANENT_ERRORS,
    ChannelTask,
    TransientError,
    channel_task,
    is_transient,
    throttle_wait_s,
)
from workers.queues import MAX_COUNTDOWN_S, UnknownQueue


def _db_error(cls: type[Exception]) -> Exception:
    return cls("UPDATE fulfilments SET ...", {}, Exception("from the driver"))


TRANSIENT: list[BaseException] = [
    _db_error(OperationalError),  # lost connection, serialization failure, deadlock
    redis.ConnectionError("gone"),
    redis.TimeoutError("slow"),
    httpx.ConnectError("refused"),
    httpx.ReadTimeout("slow"),
    AmazonServerError("503", operation="ordersV0.confirmShipment", status_code=503),
    AmazonUnreachable("dropped", operation="orders2026.searchOrders", request_sent=True),
    Throttled("429", operation="orders2026.searchOrders", status_code=429),
    RateLimitTimeout("no token", operation="orders2026.searchOrders", retry_after_s=3.0),
    TransientError("Amazon unavailable"),
]
PERMANENT: list[BaseException] = [
    _db_error(IntegrityError),
    _db_error(ProgrammingError),
    _db_error(DataError),
    InvalidInput("400", operation="ordersV0.confirmShipment", status_code=400),
    AmazonAuthError("401", operation="orders2026.searchOrders", status_code=401),
    ValueError("a bug"),
]


class Raiser:
    """What the next run of the test tasks raises."""

    error: BaseException | None = None


@pytest.fixture
def app() -> Iterator[Celery]:
    app = Celery("test-base", broker="memory://", set_as_current=False)
    app.conf.task_default_queue = "tests"
    yield app
    app.close()


@pytest.fixture
def task(app: Celery) -> Any:
    @app.task(name="tests.raise", base=ChannelTask, bind=False, shared=False)
    def raise_it(n: int) -> int:
        if Raiser.error is not None:
            raise Raiser.error
        return n

    return raise_it


def run_as_worker(task: Any, error: BaseException, retries: int = 0) -> BaseException:
    """Run the task once as a worker's pool would (the request's retry count as given); return
    what it raised."""
    Raiser.error = error
    task.push_request(
        id="task-1",
        args=[7],
        kwargs={},
        retries=retries,
        called_directly=False,
        delivery_info={"exchange": "", "routing_key": "tests"},
    )
    try:
        task.run(7)
    except BaseException as raised:
        return raised
    finally:
        task.pop_request()
        Raiser.error = None
    raise AssertionError("the task did not raise")


def sent_again(app: Celery) -> list[dict[str, Any]]:
    """The headers of every message waiting on the test queue (a retry is a new message)."""
    found = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue("tests")
        try:
            while True:
                try:
                    message = queue.get(timeout=0.1)
                except queue.Empty:
                    break
                found.append(dict(message.headers))
                message.ack()
        finally:
            queue.close()
    return found


def eta_in_s(headers: dict[str, Any], since: datetime) -> float:
    """How far after ``since`` (taken before the run) the message is due: no wall-clock bound
    on how long the run itself took."""
    return (datetime.fromisoformat(headers["eta"]) - since).total_seconds()


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
def test_transient_errors_are_retried(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", PERMANENT, ids=lambda e: type(e).__name__)
def test_permanent_errors_are_not(error: BaseException) -> None:
    assert not is_transient(error)


def test_the_policy_is_celerys_own_options_on_the_base_class() -> None:
    assert all(isinstance(e, ChannelTask.autoretry_for) for e in TRANSIENT)
    assert ChannelTask.dont_autoretry_for == PERMANENT_ERRORS
    assert ChannelTask.max_retries == 8
    assert ChannelTask.retry_backoff == 2
    assert ChannelTask.retry_backoff_max == MAX_COUNTDOWN_S
    assert ChannelTask.retry_jitter is True


@pytest.mark.parametrize("cls", [IntegrityError, ProgrammingError, DataError])
def test_a_statement_that_fails_for_good_fails_the_task_at_once(
    app: Celery, task: Any, cls: type[Exception]
) -> None:
    error = _db_error(cls)
    assert run_as_worker(task, error) is error
    assert sent_again(app) == []


def test_a_failure_backs_off_exponentially_with_jitter_and_counts(
    app: Celery, task: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workers.base")
    for retries in (0, 3, 7):
        raised = run_as_worker(task, _db_error(OperationalError), retries=retries)
        assert isinstance(raised, Retry)
        assert 0 <= float(raised.when) <= min(MAX_COUNTDOWN_S, 2 * 2**retries)
        (message,) = sent_again(app)
        assert message["retries"] == retries + 1
        assert message["id"] == "task-1"
    assert {r.levelname for r in caplog.records} == {"WARNING"}


def test_a_throttle_with_its_wait_comes_back_after_that_wait_and_does_not_count(
    app: Celery, task: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workers.base")
    error = RateLimitTimeout("no token", operation="orders2026.searchOrders", retry_after_s=42.5)
    before = datetime.now(UTC)
    raised = run_as_worker(task, error, retries=8)  # as many as a failure may have: still waits
    after = datetime.now(UTC)
    assert isinstance(raised, Retry) and raised.when == 42.5
    (message,) = sent_again(app)
    assert message["retries"] == 8, "a wait is not a failure"
    assert 42.5 <= eta_in_s(message, before) <= 42.5 + (after - before).total_seconds()
    assert [r.levelname for r in caplog.records] == ["INFO"]


def test_a_tasks_own_transient_error_with_a_wait_comes_back_after_it(
    app: Celery, task: Any
) -> None:
    raised = run_as_worker(task, TransientError("Amazon busy", retry_after_s=12.0), retries=2)
    assert isinstance(raised, Retry) and raised.when == 12.0
    (message,) = sent_again(app)
    assert message["retries"] == 2


def test_a_wait_longer_than_any_countdown_is_capped(app: Celery, task: Any) -> None:
    error = RateLimitTimeout("no token", operation="orders2026.searchOrders", retry_after_s=4000)
    raised = run_as_worker(task, error)
    assert isinstance(raised, Retry) and raised.when == MAX_COUNTDOWN_S
    assert throttle_wait_s(error) == MAX_COUNTDOWN_S
    assert len(sent_again(app)) == 1


def test_amazons_own_429_says_no_wait_so_it_backs_off_and_logs_at_info(
    app: Celery, task: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workers.base")
    error = Throttled("QuotaExceeded", operation="ordersV0.confirmShipment", status_code=429)
    raised = run_as_worker(task, error, retries=1)
    assert isinstance(raised, Retry) and 0 <= float(raised.when) <= 4
    (message,) = sent_again(app)
    assert message["retries"] == 2
    levels = [(r.name, r.levelname, r.getMessage()[:120]) for r in caplog.records]
    assert [r.levelname for r in caplog.records] == ["INFO"], levels


def test_only_giving_up_logs_at_error(
    app: Celery, task: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workers.base")
    error = _db_error(OperationalError)
    assert run_as_worker(task, error, retries=8) is error  # the ninth failure: no more retries
    assert sent_again(app) == []
    (record,) = caplog.records
    assert record.levelname == "ERROR" and "gave up after 8 retries" in record.getMessage()


def test_called_directly_a_transient_error_is_raised_as_it_is(task: Any) -> None:
    Raiser.error = TransientError("later", retry_after_s=1.0)
    try:
        with pytest.raises(TransientError):
            task(1)
    finally:
        Raiser.error = None
    assert task(3) == 3


def test_a_transient_error_keeps_its_wait_through_pickling() -> None:
    copy = pickle.loads(pickle.dumps(TransientError("later", retry_after_s=9.0)))
    assert isinstance(copy, TransientError)
    assert str(copy) == "later" and copy.retry_after_s == 9.0


def test_a_task_is_named_after_one_of_the_queues() -> None:
    with pytest.raises(UnknownQueue):
        channel_task("shipping.confirm")
    with pytest.raises(UnknownQueue):
        channel_task("fulfil")
