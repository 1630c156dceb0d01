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
import psycopg
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
    OUTAGE_HEADER,
    OUTAGE_MAX_RETRIES,
    OUTAGE_MAX_WAIT_S,
    PERMANENT_ERRORS,
    ChannelTask,
    TransientError,
    channel_task,
    is_outage,
    is_transient,
    outage_wait_s,
    throttle_wait_s,
)
from workers.queues import MAX_COUNTDOWN_S, UnknownQueue


def _db_error(cls: type[Exception], orig: Exception | None = None) -> Exception:
    return cls("UPDATE fulfilments SET ...", {}, orig or Exception("from the driver"))


def _conflict() -> Exception:
    """A transient store error that is no outage: the server answered (SQLSTATE 40001)."""
    return _db_error(OperationalError, psycopg.errors.SerializationFailure("could not serialize"))


# The store or Redis out of reach: retried soon, on a budget of their own.
OUTAGES: list[BaseException] = [
    _db_error(OperationalError, psycopg.OperationalError("connection failed: refused")),
    _db_error(OperationalError, psycopg.OperationalError("consuming input failed: timed out")),
    _db_error(OperationalError, psycopg.errors.AdminShutdown("terminating connection")),
    _db_error(OperationalError, psycopg.errors.CannotConnectNow("the system is starting up")),
    _db_error(OperationalError, psycopg.errors.ConnectionFailure("connection failure")),
    redis.ConnectionError("gone"),
    redis.TimeoutError("slow"),
    # The driver's own (a statement run on the driver's connection: not wrapped by SQLAlchemy).
    psycopg.OperationalError("server closed the connection unexpectedly"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
]
# Transient, but the server answered: the ordinary backoff.
NOT_OUTAGES: list[BaseException] = [
    _conflict(),
    _db_error(OperationalError, psycopg.errors.DeadlockDetected("deadlock")),
    _db_error(OperationalError, psycopg.errors.QueryCanceled("statement timeout")),
    psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
    psycopg.errors.LockNotAvailable("could not obtain lock"),
    _db_error(IntegrityError, psycopg.errors.UniqueViolation("duplicate key")),
    httpx.ConnectError("refused"),
    AmazonServerError("503", operation="ordersV0.confirmShipment", status_code=503),
    TransientError("Amazon unavailable"),
]


TRANSIENT: list[BaseException] = [
    _db_error(OperationalError),  # lost connection, serialization failure, deadlock
    psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),  # unwrapped
    psycopg.errors.SerializationFailure("could not serialize"),
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
    psycopg.errors.UniqueViolation("duplicate key"),  # the driver's own, unwrapped
    psycopg.errors.UndefinedColumn("no such column"),
    psycopg.errors.NumericValueOutOfRange("out of range"),
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


def run_as_worker(
    task: Any, error: BaseException, retries: int = 0, headers: dict[str, Any] | None = None
) -> BaseException:
    """Run the task once as a worker's pool would (the request's retry count and custom
    message headers as given); return what it raised."""
    Raiser.error = error
    task.push_request(
        id="task-1",
        args=[7],
        kwargs={},
        retries=retries,
        headers=headers,
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
        raised = run_as_worker(task, _conflict(), retries=retries)
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
    error = _conflict()
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


@pytest.mark.parametrize("error", OUTAGES, ids=lambda e: repr(getattr(e, "orig", e))[:40])
def test_a_store_or_redis_out_of_reach_is_an_outage(error: BaseException) -> None:
    assert is_transient(error) and is_outage(error)


@pytest.mark.parametrize("error", NOT_OUTAGES, ids=lambda e: repr(getattr(e, "orig", e))[:40])
def test_an_error_the_server_answered_is_not(error: BaseException) -> None:
    assert not is_outage(error)


def test_an_outage_wait_doubles_from_2_s_to_its_cap_and_is_never_shorter_than_half() -> None:
    for outages in range(OUTAGE_MAX_RETRIES + 3):
        step = min(OUTAGE_MAX_WAIT_S, 2.0 * 2**outages)
        for _ in range(20):
            assert step / 2 <= outage_wait_s(outages) <= step <= OUTAGE_MAX_WAIT_S
    assert OUTAGE_MAX_WAIT_S <= 15
    assert OUTAGE_MAX_RETRIES * OUTAGE_MAX_WAIT_S / 2 >= 10 * 60, "ten minutes of outage at least"


def test_an_outage_comes_back_within_the_cap_and_counts_on_its_own_budget(
    app: Celery, task: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workers.base")
    error = OUTAGES[0]
    for retries, outages in ((0, 0), (8, 5), (3, 60)):  # the ordinary budget spent: still back
        before = datetime.now(UTC)
        raised = run_as_worker(task, error, retries=retries, headers={OUTAGE_HEADER: outages})
        after = datetime.now(UTC)
        assert isinstance(raised, Retry)
        step = min(OUTAGE_MAX_WAIT_S, 2 * 2**outages)
        assert step / 2 <= float(raised.when) <= step
        (message,) = sent_again(app)
        assert message["retries"] == retries, "an outage does not spend max_retries"
        assert message[OUTAGE_HEADER] == outages + 1
        assert message["id"] == "task-1"
        due = eta_in_s(message, before)
        assert float(raised.when) <= due <= float(raised.when) + (after - before).total_seconds()
    ours = [r for r in caplog.records if r.name == "workers.base"]  # not kombu's own
    assert len(ours) == 3 and {r.levelname for r in ours} == {"WARNING"}
    assert all("store unreachable" in r.getMessage() for r in ours)


def test_the_first_outage_of_a_task_starts_its_count(app: Celery, task: Any) -> None:
    raised = run_as_worker(task, redis.ConnectionError("gone"), retries=2)
    assert isinstance(raised, Retry) and 1 <= float(raised.when) <= 2
    (message,) = sent_again(app)
    assert message[OUTAGE_HEADER] == 1 and message["retries"] == 2


def test_an_outage_budget_spent_falls_back_to_the_counted_backoff(
    app: Celery, task: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workers.base")
    error = OUTAGES[0]
    spent = {OUTAGE_HEADER: OUTAGE_MAX_RETRIES}
    raised = run_as_worker(task, error, retries=2, headers=spent)
    assert isinstance(raised, Retry) and 0 <= float(raised.when) <= 8
    (message,) = sent_again(app)
    assert message["retries"] == 3 and message[OUTAGE_HEADER] == OUTAGE_MAX_RETRIES
    assert run_as_worker(task, error, retries=8, headers=spent) is error  # then gives up
    assert sent_again(app) == []
    assert [r.levelname for r in caplog.records] == ["WARNING", "ERROR"]
