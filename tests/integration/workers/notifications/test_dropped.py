"""Dropped notifications, end to end: the sandbox (over HTTP) subscribed to a real SQS (moto)
through the setup gateway, loses two order changes on purpose (its control API's
``drop_next``); the consumer takes in the others and a real ``notifications`` worker stores
them; the next sync, in a real ``ingest`` worker, finds the two dropped orders, and the gap
audit counts them, as the metric and in ``amazon-channel status``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.db.metrics import StoreCollector
from infra.db.tables import Order
from infra.settings import Settings
from infra.sqs import EMBEDDED_ACCESS_KEY_ID, EMBEDDED_SECRET_ACCESS_KEY
from tests.integration.processes import wait_for, worker
from tests.integration.sqs import MotoSqs, moto_sqs
from tests.integration.workers.notifications.support import RATE_FACTOR, notified_settings
from tests.integration.workers.scenarios import project_app, worker_env
from workers import bootstrap
from workers.cli import main
from workers.consumer import Consumer
from workers.demo import ensure_demo_account
from workers.notifications_setup import subscribe

pytestmark = pytest.mark.integration


@pytest.fixture
def sqs() -> Iterator[MotoSqs]:
    with moto_sqs() as server:
        yield server


@pytest.fixture
def sandbox(sqs: MotoSqs) -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR, sqs_endpoint_url=sqs.endpoint_url) as handle:
        yield handle


def _new_order(sandbox: SandboxHandle) -> str:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/orders",
        json={"fulfilled_by": "MERCHANT", "status": "UNSHIPPED"},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["order_id"])


def _stored(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(Order.amazon_order_id)).scalars())


def _take_one(consumer: Consumer) -> None:
    """Long-poll until the consumer has taken in and deleted one message."""
    wait_for(lambda: consumer.poll_once() > 0, 60)


def _statuses(sandbox: SandboxHandle, order_id: str) -> list[str]:
    listing = httpx.get(
        f"{sandbox.base_url}/_sandbox/notifications", params={"subject": order_id}, timeout=30
    ).json()
    return [n["status"] for n in listing["notifications"]]


def _gaps(engine: Engine) -> dict[str, float]:
    (family,) = [
        m for m in StoreCollector(engine).collect() if m.name.endswith("notification_gaps")
    ]
    return {s.labels["direction"]: s.value for s in family.samples if s.labels["account"] == "demo"}


def test_dropped_notifications_are_found_by_the_sync_and_counted_by_the_gap_audit(
    settings: Settings,
    sandbox: SandboxHandle,
    sqs: MotoSqs,
    clean_db: Engine,
    broker_url: str,
    child_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue_url, _arn = sqs.new_queue("notifications")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EMBEDDED_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMBEDDED_SECRET_ACCESS_KEY)
    ready = notified_settings(settings, sandbox, sqs.endpoint_url, queue_url)
    env = {
        **worker_env(child_env, sandbox, RATE_FACTOR),
        "SQS_QUEUE_URL": queue_url,
        "SQS_ENDPOINT_URL": sqs.endpoint_url,
        "AWS_ACCESS_KEY_ID": EMBEDDED_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": EMBEDDED_SECRET_ACCESS_KEY,
    }
    with project_app(broker_url) as app:
        c = bootstrap.use(ready, patient=False)
        try:
            account = ensure_demo_account(c.sessions)
            subscribe(c, ready, "demo")
            consumer = Consumer(sqs.client, queue_url)
            with worker("notifications", env, tmp_path), worker("ingest", env, tmp_path):
                first = _new_order(sandbox)
                _take_one(consumer)
                wait_for(lambda: first in _stored(clean_db), 60)
                # Later than the first notification taken in, whatever Amazon's whole seconds.
                sandbox.state.advance_clock(5)
                httpx.post(
                    f"{sandbox.base_url}/_sandbox/notification-settings",
                    json={"drop_next": 2},
                    timeout=30,
                ).raise_for_status()
                lost = [_new_order(sandbox), _new_order(sandbox)]
                kept = _new_order(sandbox)
                _take_one(consumer)
                wait_for(lambda: kept in _stored(clean_db), 60)
                assert not set(lost) & _stored(clean_db), "no notification brought them"
                assert [_statuses(sandbox, o) for o in lost] == [["dropped"], ["dropped"]]
                assert _gaps(clean_db) == {"sync_only": 0.0, "notification_only": 0.0}

                sandbox.state.advance_clock(180)  # past Amazon's two minutes: a search sees them
                app.send_task("ingest.sync_account", args=[account.id])
                wait_for(lambda: set(lost) <= _stored(clean_db), 60)
        finally:
            bootstrap.reset_and_close()

    assert _stored(clean_db) == {first, *lost, kept}, "each order once"
    assert _gaps(clean_db) == {"sync_only": 2.0, "notification_only": 0.0}
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("BROKER_URL", settings.broker_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    shown = CliRunner().invoke(main, ["status", "--json"])
    assert shown.exit_code in (0, 1), shown.output
    status: dict[str, Any] = json.loads(shown.stdout)
    (demo,) = [n for n in status["sections"]["notifications"] if n["account"] == "demo"]
    assert (demo["sync_only"], demo["notification_only"]) == (2, 0)
    assert any("2 order change(s) found by the sync only" in note for note in status["notes"])
