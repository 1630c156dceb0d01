"""The consumer on a real SQS (moto's server), the real store and broker, and the sandbox over
HTTP: duplicated and reordered order changes are one refresh and one stored order in its latest
state; a malformed body is dead-lettered with its reason and deleted; a notification and a sync
reading the same order at once store it once; a consumer SIGKILLed mid-message leaves the
message to be delivered again, taken in once; a feed notification ends a refund feed's wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text

from infra.amazon.sandbox.generate import create_bulk
from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.tables import (
    DeadLetter,
    FeedSubmission,
    NotificationReceived,
    Order,
    OrderRefresh,
)
from infra.settings import Settings
from tests.integration.processes import wait_for
from tests.integration.workers.notifications.support import (
    RATE_FACTOR,
    feed_finished,
    messages_left,
    moto_sqs,
    new_queue,
    notified_settings,
    order_change,
    send,
    sqs_of,
)
from tests.integration.workers.scenarios import (
    assert_store_matches_amazon,
    project_app,
    worker_env,
)
from workers import bootstrap
from workers.consumer import Consumer
from workers.demo import ensure_demo_account
from workers.tasks import notifications as tasks

pytestmark = pytest.mark.integration
SELLER = DEMO_SELLER.seller_id


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture(scope="module")
def sqs_endpoint() -> Iterator[str]:
    with moto_sqs() as endpoint:
        yield endpoint


class SandboxClock:
    """Amazon's clock (the sandbox's, which tests move on)."""

    def __init__(self, sandbox: SandboxHandle) -> None:
        self.sandbox = sandbox

    def now(self) -> datetime:
        return self.sandbox.state.now()


@pytest.fixture
def world(
    settings: Settings, sandbox: SandboxHandle, sqs_endpoint: str, clean_db: Engine, broker_url: str
) -> Iterator[dict[str, Any]]:
    sqs = sqs_of(sqs_endpoint)
    queue_url = new_queue(sqs)
    ready = notified_settings(settings, sandbox, sqs_endpoint, queue_url)
    with project_app(broker_url):
        c = bootstrap.use(ready, patient=False, clock=SandboxClock(sandbox))
        try:
            account = ensure_demo_account(c.sessions)
            yield {
                "sqs": sqs,
                "queue_url": queue_url,
                "settings": ready,
                "account_id": account.id,
                "consumer": Consumer(sqs, queue_url),
            }
        finally:
            bootstrap.reset_and_close()


def drain(world: dict[str, Any], timeout_s: float = 30) -> None:
    """Poll until the queue holds nothing (each poll returns at once while messages wait)."""
    wait_for(
        lambda: (
            world["consumer"].poll_once() >= 0
            and messages_left(world["sqs"], world["queue_url"]) == 0
        ),
        timeout_s,
    )


def new_orders(sandbox: SandboxHandle, count: int, seed: int) -> list[str]:
    ids = create_bulk(
        sandbox.state,
        count,
        seller_id=SELLER,
        marketplace_id="ATVPDKIKX0DER",
        fulfilled_by="MERCHANT",
        status="UNSHIPPED",
        items_per_order=1,
        spread_seconds=60,
        seed=seed,
    )
    sandbox.state.advance_clock(180)
    return ids


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_duplicated_and_reordered_changes_are_one_refresh_and_one_order_in_its_latest_state(
    world: dict[str, Any], sandbox: SandboxHandle, engine: Engine
) -> None:
    (order_id,) = new_orders(sandbox, 1, seed=31)
    now = sandbox.state.now()
    sandbox.state.set_status(order_id, "SHIPPED")
    newest = order_change(SELLER, order_id, now, notification_id="n-newest", status="Shipped")
    older = order_change(SELLER, order_id, now - timedelta(minutes=5), notification_id="n-older")
    # The newest first, then an older one (out of order), then the newest again (a duplicate).
    send(world["sqs"], world["queue_url"], newest, older, newest)
    drain(world)

    assert count(engine, NotificationReceived) == 2, "each NotificationId once"
    with engine.connect() as conn:
        refresh = conn.execute(select(OrderRefresh)).one()
    assert (refresh.amazon_order_id, refresh.version) == (order_id, 1), "one refresh, asked once"
    assert refresh.changed_at == now

    result = tasks.refresh.apply(args=[world["account_id"]]).get()
    assert result["changed"] == 1
    assert count(engine, OrderRefresh) == 0
    with engine.connect() as conn:
        (stored,) = conn.execute(select(Order.status).where(Order.amazon_order_id == order_id))
    assert stored.status == "SHIPPED", "the latest state, as Amazon holds it"
    again = tasks.refresh.apply(args=[world["account_id"]]).get()
    assert again["read"] == 0 and count(engine, Order) == 1


def test_a_malformed_notification_is_dead_lettered_with_its_reason_and_deleted(
    world: dict[str, Any], engine: Engine
) -> None:
    broken = order_change(SELLER, "111-1111111-1111111", datetime.now().astimezone())
    broken = broken.replace('"AmazonOrderId"', '"OrderIdMisspelt"')
    send(world["sqs"], world["queue_url"], broken, "not json at all")
    drain(world)

    with engine.connect() as conn:
        letters = conn.execute(select(DeadLetter).order_by(DeadLetter.id)).all()
    reasons = sorted(letter.error_message for letter in letters)
    assert [letter.reason for letter in letters] == ["malformed", "malformed"]
    assert any("AmazonOrderId: Field required" in r for r in reasons), reasons
    assert any("the body is not JSON" in r for r in reasons), reasons
    assert {letter.queue for letter in letters} == {"notifications"}
    assert count(engine, NotificationReceived) == 0 and count(engine, OrderRefresh) == 0


def test_a_notification_and_a_sync_reading_the_same_order_at_once_store_it_once(
    world: dict[str, Any], sandbox: SandboxHandle, engine: Engine
) -> None:
    ids = new_orders(sandbox, 20, seed=32)
    now = sandbox.state.now()
    send(world["sqs"], world["queue_url"], *(order_change(SELLER, o, now) for o in ids))
    drain(world)
    assert count(engine, OrderRefresh) == 20

    results: dict[str, Any] = {}
    start = threading.Barrier(2)

    def run(name: str, work: Any) -> None:
        start.wait()
        results[name] = work()

    threads = [
        threading.Thread(target=run, args=("sync", lambda: bootstrap.sync_account("demo"))),
        threading.Thread(
            target=run,
            args=("refresh", lambda: tasks.refresh.apply(args=[world["account_id"]]).get()),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(results) == {"sync", "refresh"}
    with engine.connect() as conn:
        rows = conn.execute(select(Order.amazon_order_id, Order.status, Order.version)).all()
        events = conn.execute(
            text("SELECT count(*) FROM outbox_events WHERE topic = 'orders/created'")
        ).scalar_one()
    on_amazon = [o.order_id for o in sandbox.state.orders_of(SELLER)]
    assert set(ids) <= set(on_amazon)
    assert sorted(r.amazon_order_id for r in rows) == sorted(on_amazon), "each order once"
    assert {r.version for r in rows} == {1}, "stored once: one version each"
    assert events == len(on_amazon), "one orders/created event each, whichever path stored it"
    assert results["sync"].created + results["refresh"]["changed"] == len(on_amazon)
    assert_store_matches_amazon(engine, sandbox, world["account_id"])


def test_a_consumer_killed_mid_message_leaves_it_to_sqs_and_nothing_doubles(
    world: dict[str, Any],
    sandbox: SandboxHandle,
    engine: Engine,
    child_env: dict[str, str],
    tmp_path: Path,
) -> None:
    (order_id,) = new_orders(sandbox, 1, seed=33)
    sqs, queue_url = world["sqs"], world["queue_url"]
    body = order_change(SELLER, order_id, sandbox.state.now(), notification_id="n-killed")
    send(sqs, queue_url, body)
    ready: Settings = world["settings"]
    env = {
        **worker_env(child_env, sandbox, RATE_FACTOR),
        "SQS_QUEUE_URL": queue_url,
        "SQS_ENDPOINT_URL": ready.sqs_endpoint_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "SQS_VISIBILITY_TIMEOUT": "3",  # a killed consumer's message is back in 3 s
    }
    # Hold the NotificationId's row in an open transaction: the consumer's insert waits on it,
    # mid-message, with nothing committed.
    holder = engine.connect()
    holding = holder.begin()
    holder.execute(
        text(
            "INSERT INTO notifications_received (notification_id, notification_type, event_time)"
            " VALUES ('n-killed', 'ORDER_CHANGE', now())"
        )
    )
    log = (tmp_path / "consumer-1.log").open("wb")
    first = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "notifications", "consume"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _waiting_on_lock(engine), 60)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        holding.rollback()
        holder.close()
        log.close()
    assert count(engine, NotificationReceived) == 0, "nothing committed by the killed one"
    assert messages_left(sqs, queue_url) == 1, "the message is still on the queue"

    with (tmp_path / "consumer-2.log").open("wb") as log2:
        second = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "notifications", "consume"],
            env=env,
            stdout=log2,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: messages_left(sqs, queue_url) == 0, 60)
        # Delivered again: the same message once more is a duplicate and changes nothing.
        send(sqs, queue_url, body)
        wait_for(lambda: messages_left(sqs, queue_url) == 0, 60)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=40)
    assert count(engine, NotificationReceived) == 1
    with engine.connect() as conn:
        refresh = conn.execute(select(OrderRefresh)).one()
    assert (refresh.amazon_order_id, refresh.version) == (order_id, 1)


def _waiting_on_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query ILIKE '%notifications_received%'"
            )
        ).scalar_one()
    return bool(waiting)


def test_a_feed_notification_ends_a_refund_feeds_wait(
    world: dict[str, Any], sandbox: SandboxHandle, engine: Engine, redis_client: Any
) -> None:
    later = sandbox.state.now() + timedelta(minutes=10)
    with engine.begin() as conn:
        submission_id = conn.execute(
            insert(FeedSubmission)
            .values(
                account_id=world["account_id"],
                marketplace_id="ATVPDKIKX0DER",
                feed_type="POST_PAYMENT_ADJUSTMENT_DATA",
                state="created",
                document=b"<AmazonEnvelope/>",
                message_count=1,
                amazon_feed_id="50001000042",
                next_attempt_at=later,  # its next getFeed poll, ten minutes off
            )
            .returning(FeedSubmission.id)
        ).scalar_one()
    send(world["sqs"], world["queue_url"], feed_finished(SELLER, "50001000042", later))
    drain(world)

    with engine.connect() as conn:
        due = conn.execute(
            select(FeedSubmission.next_attempt_at <= func.now()).where(
                FeedSubmission.id == submission_id
            )
        ).scalar_one()
    assert due, "due now, not in ten minutes"
    queued = [m for m in redis_client.lrange("refund", 0, -1) if b"refund.advance" in m]
    assert len(queued) == 1, "its advance queued at once"
    assert f"[{submission_id}]".encode() in queued[0]
