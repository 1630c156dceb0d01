"""The refund queue's tasks run twice give one effect, in this process (``task.apply``) on the
real store and broker, against the sandbox over HTTP: ``refund.intake`` of one message twice is
one refund, ``refund.flush`` twice is one submission, ``refund.advance`` of one submission twice
at once and again in a row is one createFeed, and ``refund.sweep_amazon`` twice records a
Seller Central refund once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from domain.feeds import SubmissionState
from domain.refunds import FlushPolicy
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.db.tables import FeedSubmission
from infra.db.tables import Refund as RefundRow
from infra.settings import Settings
from tests.integration.processes import wait_for
from tests.integration.workers.fulfilments import count, drain_delayed
from tests.integration.workers.refunds import (
    SANDBOX_RATE_FACTOR,
    Amazon,
    drain_refunds,
    events,
    refund_rows,
)
from tests.integration.workers.scenarios import on_sandbox, project_app
from workers import bootstrap
from workers.demo import ensure_demo_account
from workers.tasks import refund as tasks

pytestmark = pytest.mark.integration

CREATE_FEED = "feeds.createFeed"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=SANDBOX_RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def amazon(sandbox: SandboxHandle) -> Iterator[Amazon]:
    """The sandbox's control API, the sandbox fresh (a test's refunds are all Finances holds)."""
    with httpx.Client(base_url=sandbox.base_url, timeout=30) as http:
        http.post("/_sandbox/reset").raise_for_status()
        control = Amazon(http)
        control.feeds_done_at_once()
        yield control


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    with project_app(broker_url) as app:
        yield app


@dataclass
class AmazonTime:
    """The sandbox's clock, ``behind`` it: a worker's view of time once Amazon's has been moved
    on (the sandbox's clock only goes forward, and a test cannot wait minutes)."""

    sandbox: SandboxHandle
    behind: timedelta = timedelta(0)

    def now(self) -> datetime:
        return self.sandbox.state.now() - self.behind


@pytest.fixture
def clock(sandbox: SandboxHandle) -> AmazonTime:
    return AmazonTime(sandbox)


@pytest.fixture
def container(
    settings: Settings,
    clean_db: Engine,
    sandbox: SandboxHandle,
    amazon: Amazon,
    clock: AmazonTime,
    celery_app: Any,
) -> Iterator[bootstrap.Container]:
    """A worker's container against the sandbox, with the demo seller as account ``demo``."""
    container = bootstrap.use(
        on_sandbox(settings, sandbox, SANDBOX_RATE_FACTOR), patient=False, clock=clock
    )
    ensure_demo_account(container.sessions)
    yield container
    bootstrap.reset_and_close()


def synced_order(amazon: Amazon, *quantities: int, status: str = "UNSHIPPED") -> dict[str, Any]:
    """An order staged on Amazon and synced into the store (the container's)."""
    order = amazon.order(*quantities, status=status)
    report = bootstrap.sync_account("demo")
    assert report.created >= 1, report
    return order


def message(order: dict[str, Any], platform_id: str = "R-1") -> dict[str, Any]:
    return {
        "version": 1,
        "type": "refund.requested",
        "account": "demo",
        "amazon_order_id": order["order_id"],
        "platform_refund_id": platform_id,
        "reason": "customer_return",
        "lines": [
            {"order_item_id": order["items"][0]["order_item_id"], "amounts": {"item_price": "5.00"}}
        ],
    }


def queued(app: Any, task: str) -> list[list[Any]]:
    """The args of every ``task`` message on the refund queue (which is emptied)."""
    found = []
    for headers, (args, _kwargs, _embed) in drain_refunds(app):
        if headers["task"] == task:
            found.append(list(args))
    return found


def test_intake_of_one_message_twice_takes_one_refund(
    container: bootstrap.Container, amazon: Amazon, celery_app: Any
) -> None:
    order = synced_order(amazon, 1)
    first = tasks.intake.apply(args=[message(order)]).get()
    second = tasks.intake.apply(args=[message(order)]).get()
    assert first["accepted"] and second["accepted"]
    assert first["refund_id"] == second["refund_id"] and first["state"] == "accepted"
    assert count(container.engine, RefundRow) == 1
    # The batcher was asked for once: the replay changed nothing to batch.
    assert queued(celery_app, "refund.flush") == [[1]]


def _due(container: bootstrap.Container) -> bool:
    """The batcher's own view: a pending batch has waited the longest a batch waits."""
    wait = FlushPolicy().max_wait
    return any(pending.waited >= wait for pending in container.refund_store.pending())


def test_flush_twice_is_one_submission_and_advance_twice_at_once_is_one_create_feed(
    container: bootstrap.Container, amazon: Amazon, celery_app: Any
) -> None:
    order = synced_order(amazon, 2)
    tasks.intake.apply(args=[message(order)]).get()
    wait_for(lambda: _due(container), 30)
    drain_refunds(celery_app)

    built = [tasks.flush_refunds.apply(args=[1]).get() for _ in range(2)]
    (submission_id,) = built[0]["built"]
    assert built[1]["built"] == []
    assert count(container.engine, FeedSubmission) == 1
    assert queued(celery_app, "refund.advance") == [[submission_id]]

    calls_before = len(amazon.calls(CREATE_FEED))
    start = threading.Barrier(2)
    results: list[dict[str, Any]] = []

    def advance() -> None:
        start.wait()
        results.append(tasks.advance_submission.apply(args=[submission_id]).get())

    racers = [threading.Thread(target=advance) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
    outcomes = sorted(r["outcome"] for r in results)
    assert "created" in outcomes and len(outcomes) == 2, outcomes
    # The run that created the feed queued itself again for the first poll (30 s on).
    # (On Redis on the refund queue with its ETA; on RabbitMQ in the delay queues.)
    waiting = [h for h, _ in drain_refunds(celery_app)] + drain_delayed(celery_app)
    polls = [h for h in waiting if h["task"] == "refund.advance"]
    assert [h["eta"] is not None for h in polls] == [True]
    # In a row: the feed is followed (processed at once here) and its report applied, once.
    again = [tasks.advance_submission.apply(args=[submission_id]).get() for _ in range(3)]
    assert len(amazon.calls(CREATE_FEED)) == calls_before + 1
    assert len(amazon.feeds()) == 1
    with container.engine.connect() as conn:
        state = conn.execute(select(FeedSubmission.state)).scalar_one()
    assert state == SubmissionState.DONE.value, (results, again)
    assert refund_rows(container.engine)["R-1"].state == "confirmed"
    assert len(events(container.engine, "refunds/confirmed")) == 1
    assert len(amazon.adjustments(order["order_id"])) == 1


def test_sweep_amazon_twice_records_a_seller_central_refund_once(
    container: bootstrap.Container, amazon: Amazon, clock: AmazonTime, celery_app: Any
) -> None:
    order = synced_order(amazon, 1, status="SHIPPED")
    item_id = order["items"][0]["order_item_id"]
    amazon.refund_in_seller_central(order["order_id"], item_id, {"Principal": "7.50"})
    # Finances lists by date only what was posted two minutes ago: Amazon's time moves three
    # minutes on, and the worker's is half a minute behind it (still ahead of the refund).
    amazon.advance(180)
    clock.behind = timedelta(seconds=30)

    first = tasks.sweep_amazon.apply().get()
    second = tasks.sweep_amazon.apply().get()
    assert first == {"recorded": 1, "busy": []}
    assert second == {"recorded": 0, "busy": []}
    rows = refund_rows(container.engine)
    recorded = rows[None]
    assert recorded.source == "amazon" and recorded.state == "confirmed"
    assert recorded.amazon_order_id == order["order_id"]
    (event,) = events(container.engine, "refunds/recorded_from_amazon")
    assert event["lines"][0]["amounts"]["item_price"] == "7.50"
    assert event["lines"][0]["order_item_id"] == item_id
