"""Dead letters on a real broker and a real worker process: what a worker cannot process lands in
the table with its reason (a body that is not JSON, no task message, an unknown task, a
permanent error, a message that kills its worker on every delivery), ``failures retry`` sends it
again once, and ``events redeliver`` sends a dead webhook delivery again to a real subscriber."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu.messaging import Producer
from sqlalchemy import Engine, text

from infra.db.failures import DeadLetterView, SqlFailures
from tests.faults.harness.servers import free_port
from tests.integration.infra.platform.test_relay import SECRET, Subscriber
from tests.integration.processes import wait_for
from tests.integration.workers.failing import (
    DIE_TASK,
    FAIL_TASK,
    OUTAGE_TASK,
    FailingWorker,
    runs,
)
from tests.integration.workers.fulfilments import cli
from workers.base import OUTAGE_MAX_RETRIES
from workers.deadletters import MAX_DELIVERIES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def subscriber() -> Iterator[Subscriber]:
    found = Subscriber()
    found.start()
    yield found
    found.stop()


@pytest.fixture(scope="module")
def worker(
    database_url: str,
    redis_url: str,
    broker_url: str,
    subscriber: Subscriber,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FailingWorker]:
    import os

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BROKER_URL": broker_url,
        "WEBHOOK_URLS": subscriber.url,
        "WEBHOOK_SECRET": SECRET,
    }
    folder = tmp_path_factory.mktemp("failing-worker")
    process = FailingWorker("events", env, folder / "worker.log")
    process.start()
    yield process
    process.stop()


def letter(engine: Engine, key: str) -> DeadLetterView | None:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT id FROM dead_letters WHERE message_key = :key"), {"key": key}
        ).scalar()
    return None if found is None else SqlFailures(engine).get(int(found))


def landed(engine: Engine, key: str) -> DeadLetterView:
    wait_for(lambda: letter(engine, key) is not None, 60)
    found = letter(engine, key)
    assert found is not None
    return found


def publish_raw(
    app: Any,
    body: bytes | str,
    headers: dict[str, Any] | None,
    content_type: str = "application/json",
) -> None:
    """A message on the events queue as anyone on the broker could publish it."""
    with app.connection_for_write() as conn:
        Producer(conn).publish(
            body,
            exchange="events",
            routing_key="events",
            content_type=content_type,
            content_encoding="utf-8",
            headers=headers or {},
            declare=[app.amqp.queues["events"]],
        )


def test_a_body_that_is_not_json_lands_with_its_reason(
    clean_db: Engine, celery_app: Any, worker: FailingWorker
) -> None:
    publish_raw(celery_app, b"{not json at all", {"task": "events.deliver", "id": "not-json-1"})
    found = landed(clean_db, "not-json-1")
    assert (found.reason, found.task_name, found.queue) == ("malformed", "events.deliver", "events")
    assert found.body == "{not json at all"
    assert found.error_type is not None and found.state == "waiting"
    assert not found.can_be_sent_again
    assert worker.process is not None and worker.process.poll() is None  # the worker goes on


@pytest.mark.parametrize(
    ("body", "content_type", "said"),
    [
        (b"\x80\x04K\x01.", "application/x-python-serialize", "pickle"),
        (b'{"x": 1}', "application/json", ""),
    ],
)
def test_a_task_message_not_of_our_shape_lands_with_its_reason(
    clean_db: Engine,
    celery_app: Any,
    worker: FailingWorker,
    body: bytes,
    content_type: str,
    said: str,
) -> None:
    task_id = str(uuid.uuid4())
    publish_raw(celery_app, body, {"task": "events.deliver", "id": task_id}, content_type)
    found = landed(clean_db, task_id)
    assert found.reason == "malformed", found
    assert said in (found.error_message or "")
    assert found.body is not None and not found.can_be_sent_again


def test_a_message_of_no_task_lands_under_its_body(
    clean_db: Engine, celery_app: Any, worker: FailingWorker
) -> None:
    body = json.dumps({"hello": "world"})
    publish_raw(celery_app, body, None)
    wait_for(lambda: SqlFailures(clean_db).listing(), 60)
    (found,) = SqlFailures(clean_db).listing()
    assert (found.reason, found.task_name, found.body) == ("malformed", None, body)
    assert "no task name" in (found.error_message or "")


def test_an_unknown_task_lands_with_its_arguments_and_can_be_sent_again(
    clean_db: Engine, celery_app: Any, cli_env: dict[str, str], worker: FailingWorker
) -> None:
    task_id = str(uuid.uuid4())
    kwargs = {"account": 7, "refresh_token": "Atzr|planted-secret"}
    celery_app.send_task("events.no_such_task", args=[1], kwargs=kwargs, task_id=task_id)
    found = landed(clean_db, task_id)
    assert (found.reason, found.args) == ("unknown_task", [1])
    assert found.kwargs == {"account": 7, "refresh_token": "[redacted]"}
    assert "planted-secret" not in json.dumps(found.as_dict())
    assert "planted-secret" not in worker.log_text()  # nor Celery's dump of the message
    refused = cli(cli_env, "failures", "retry", str(found.id))
    assert refused.exit_code == 2
    assert "held a secret" in refused.output
    discarded = cli(cli_env, "failures", "discard", str(found.id))
    assert discarded.exit_code == 0, discarded.output
    assert f"failure {found.id} is discarded" in discarded.output


def test_a_permanent_error_lands_and_a_retry_runs_it_again_once(
    clean_db: Engine,
    celery_app: Any,
    cli_env: dict[str, str],
    worker: FailingWorker,
    tmp_path: Path,
) -> None:
    task_id = str(uuid.uuid4())
    celery_app.send_task(FAIL_TASK, args=[str(tmp_path)], task_id=task_id)
    found = landed(clean_db, task_id)
    assert (found.reason, found.error_type) == ("permanent_error", "ValueError")
    assert found.error_message == "the cause is not fixed yet"
    assert (found.args, found.queue, runs(tmp_path)) == ([str(tmp_path)], "events", 1)

    listed = cli(cli_env, "failures", "list", "--state", "waiting")
    assert listed.exit_code == 0, listed.output
    assert [str(found.id), "permanent_error", FAIL_TASK, "waiting", "1"] in [
        line.split()[:5] for line in listed.output.splitlines()
    ]
    shown = cli(cli_env, "failures", "show", str(found.id))
    assert json.loads(shown.output)["task_id"] == task_id

    (tmp_path / "fixed").touch()  # the cause fixed
    first = cli(cli_env, "failures", "retry", str(found.id))
    assert first.exit_code == 0, first.output
    assert f"{FAIL_TASK} sent again as" in first.output
    second = cli(cli_env, "failures", "retry", str(found.id))
    assert second.exit_code == 0, second.output
    assert "was retried already; nothing sent" in second.output
    wait_for(lambda: (tmp_path / "succeeded").exists(), 60)

    # A task queued after both retries runs after anything they sent (one worker, one queue).
    after = tmp_path / "after"
    after.mkdir()
    (after / "fixed").touch()
    celery_app.send_task(FAIL_TASK, args=[str(after)])
    wait_for(lambda: (after / "succeeded").exists(), 60)
    assert runs(tmp_path) == 2
    retried = SqlFailures(clean_db).get(found.id)
    assert retried is not None and retried.state == "retried"
    assert retried.resent_task_id is not None and retried.resent_task_id != task_id
    assert letter(clean_db, retried.resent_task_id) is None  # it succeeded: no new letter


def test_a_message_that_kills_its_worker_lands_after_its_deliveries(
    clean_db: Engine, celery_app: Any, worker: FailingWorker, tmp_path: Path
) -> None:
    task_id = str(uuid.uuid4())
    celery_app.send_task(DIE_TASK, args=[str(tmp_path)], task_id=task_id)
    found = landed(clean_db, task_id)
    assert (found.reason, found.error_type) == ("worker_lost", "WorkerLostError")
    assert found.deliveries == MAX_DELIVERIES + 1
    assert runs(tmp_path) == MAX_DELIVERIES  # each delivery ran it once; the last did not

    # The worker is up and takes the next task.
    (tmp_path / "fixed").touch()
    celery_app.send_task(FAIL_TASK, args=[str(tmp_path)])
    wait_for(lambda: (tmp_path / "succeeded").exists(), 60)
    assert runs(tmp_path) == MAX_DELIVERIES + 1


def test_a_dead_webhook_delivery_is_sent_again_to_a_real_subscriber(
    clean_db: Engine,
    celery_app: Any,
    cli_env: dict[str, str],
    worker: FailingWorker,
    subscriber: Subscriber,
) -> None:
    event_id = uuid.uuid4()
    with clean_db.begin() as conn:
        outbox_id = conn.execute(
            text(
                "INSERT INTO outbox_events (event_id, topic, aggregate_key, payload,"
                " created_at, dispatched_at) VALUES (:event_id, 'orders/updated', 'order:1:A',"
                " CAST(:payload AS jsonb), now() - interval '2 days', now() - interval '2 days')"
                " RETURNING id"
            ),
            {"event_id": event_id, "payload": json.dumps({"amazon_order_id": "A"})},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO webhook_deliveries (event_id, aggregate_key, subscriber_url, state,"
                " attempts, last_error) VALUES (:id, 'order:1:A', :url, 'dead', 12, 'HTTP 503')"
            ),
            {"id": outbox_id, "url": subscriber.url},
        )
    before = len(subscriber.received)
    done = cli(cli_env, "events", "redeliver", str(event_id))
    assert done.exit_code == 0, done.output
    assert f"queued for delivery again to {subscriber.url}" in done.output
    wait_for(lambda: str(event_id) in subscriber.delivered(), 60)
    (received,) = [r for r in subscriber.received[before:] if r.event_id == str(event_id)]
    assert received.signature_ok and received.attempt == 13
    with clean_db.connect() as conn:
        state = conn.execute(
            text("SELECT state FROM webhook_deliveries WHERE event_id = :id"), {"id": outbox_id}
        ).scalar_one()
    assert state == "delivered"

    unknown = cli(cli_env, "events", "redeliver", str(uuid.uuid4()))
    assert unknown.exit_code == 2 and "no event" in unknown.output


def outage_notes(folder: Path) -> list[tuple[int, int]]:
    """Each run of the outage task: its retry count and its outage count."""
    path = folder / "outages"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(int(retries), int(outages)) for retries, outages in (line.split() for line in lines)]


def test_a_store_outage_retries_on_its_own_budget_and_the_task_succeeds_after(
    celery_app: Any, worker: FailingWorker, tmp_path: Path
) -> None:
    """A real refused connection: the task comes back soon (after 1-2 s, then 2-4 s), its
    retry count unchanged and its outage count in the message; no dead letter, and it succeeds
    once the store is back."""
    celery_app.send_task(OUTAGE_TASK, args=[str(tmp_path), free_port()])
    wait_for(lambda: len(outage_notes(tmp_path)) >= 3, 60)
    (tmp_path / "fixed").touch()
    wait_for(lambda: (tmp_path / "succeeded").exists(), 60)
    seen = outage_notes(tmp_path)
    assert [retries for retries, _ in seen] == [0] * len(seen), seen
    assert [outages for _, outages in seen] == list(range(len(seen))), seen
    assert len(seen) <= OUTAGE_MAX_RETRIES
    assert "store unreachable; task runs again in" in worker.log_text()
