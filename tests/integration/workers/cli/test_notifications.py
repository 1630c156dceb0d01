"""``notifications setup|status|teardown``: against the sandbox and a real SQS (moto), setup twice
makes one destination and three subscriptions; teardown removes them; errors are one line.
``run``'s subscribing of the sandbox sellers at ready goes through the same gateway, in its own
process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.settings import Region, Settings
from infra.sqs import EMBEDDED_ACCESS_KEY_ID, EMBEDDED_SECRET_ACCESS_KEY
from tests.integration.sqs import MotoSqs, moto_sqs
from workers.cli import main
from workers.demo import ensure_demo_account
from workers.system import subscribe_sandbox_sellers

pytestmark = pytest.mark.integration


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MotoSqs, str]]:
    with moto_sqs() as sqs:
        url, arn = sqs.new_queue("notifications")
        monkeypatch.setenv("SQS_QUEUE_URL", url)
        monkeypatch.setenv("SQS_ENDPOINT_URL", sqs.endpoint_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", EMBEDDED_ACCESS_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMBEDDED_SECRET_ACCESS_KEY)
        yield sqs, arn


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch, queue: tuple[MotoSqs, str]) -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=0, sqs_endpoint_url=queue[0].endpoint_url) as handle:
        monkeypatch.setenv("AMAZON_REGION", "SANDBOX")
        monkeypatch.setenv("SPAPI_ENDPOINT", handle.base_url)
        monkeypatch.setenv("SANDBOX_RATE_FACTOR", "0")
        yield handle


@pytest.fixture
def demo(session_factory: sessionmaker[Session], clean_db: Engine) -> str:
    ensure_demo_account(session_factory)
    return "demo"


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, ["notifications", *args])
    assert result.exit_code == 0, result.output
    return result.stdout  # the table, without the log lines on stderr


def test_setup_twice_makes_one_destination_and_three_subscriptions(
    sandbox: SandboxHandle, queue: tuple[MotoSqs, str], demo: str
) -> None:
    _, arn = queue
    first = _invoke("setup", demo)
    second = _invoke("setup", demo)
    status = _invoke("status", demo)

    book = sandbox.state.notifications
    assert [d.arn for d in book.destinations.values()] == [arn]
    assert sorted(s.notification_type for s in book.subscriptions.values()) == [
        "FEED_PROCESSING_FINISHED",
        "ORDER_CHANGE",
        "REPORT_PROCESSING_FINISHED",
    ]
    assert {s.seller_id for s in book.subscriptions.values()} == {DEMO_SELLER.seller_id}
    order_change = next(
        s for s in book.subscriptions.values() if s.notification_type == "ORDER_CHANGE"
    )
    assert order_change.event_filter == {
        "eventFilterType": "ORDER_CHANGE",
        "orderChangeTypes": ["OrderStatusChange", "BuyerRequestedChange"],
        "marketplaceIds": list(DEMO_SELLER.marketplace_ids),
    }
    assert first.count("created") == 4
    assert second.count("kept") == 4 and "created" not in second
    assert status.count("to this queue") == 3


def test_an_order_after_setup_arrives_on_the_queue(
    sandbox: SandboxHandle, queue: tuple[MotoSqs, str], demo: str
) -> None:
    sqs, arn = queue
    _invoke("setup", demo)
    created = httpx.post(f"{sandbox.base_url}/_sandbox/orders", json={})
    bodies = sqs.drain(sqs.client.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"], 1)

    order_id = created.json()["order_id"]
    assert [b["Payload"]["OrderChangeNotification"]["AmazonOrderId"] for b in bodies] == [order_id]


def test_teardown_removes_the_subscriptions_and_the_destination(
    sandbox: SandboxHandle, demo: str
) -> None:
    _invoke("setup", demo)
    removed = _invoke("teardown", demo)
    again = _invoke("teardown", demo)

    assert not sandbox.state.notifications.subscriptions
    assert not sandbox.state.notifications.destinations
    assert removed.count("deleted") == 4
    assert "nothing to remove" in again


def test_without_a_queue_setup_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, demo: str, tmp_path: object
) -> None:
    monkeypatch.delenv("SQS_QUEUE_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["notifications", "setup", demo])

    assert result.exit_code == 2
    assert result.output.startswith("error: no SQS queue: set SQS_QUEUE_URL")


def test_an_unknown_account_is_a_one_line_error(
    queue: tuple[MotoSqs, str], clean_db: Engine
) -> None:
    result = CliRunner().invoke(main, ["notifications", "status", "nobody"])

    assert result.exit_code == 2
    assert result.output.strip() == "error: account: no account 'nobody'"


def test_run_subscribes_the_sandbox_sellers_in_its_own_process_once_each(
    sandbox: SandboxHandle,
    queue: tuple[MotoSqs, str],
    demo: str,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sqs, arn = queue
    ready = settings.model_copy(
        update={
            "amazon_region": Region.SANDBOX,
            "spapi_endpoint": sandbox.base_url,
            "sandbox_rate_factor": 0,
            "sqs_queue_url": os.environ["SQS_QUEUE_URL"],
            "sqs_endpoint_url": sqs.endpoint_url,
        }
    )
    subscribe_sandbox_sellers(ready)
    subscribe_sandbox_sellers(ready)  # a second run's ready: nothing made twice

    book = sandbox.state.notifications
    assert [d.arn for d in book.destinations.values()] == [arn]
    assert len(book.subscriptions) == 3
    said = [line for line in capsys.readouterr().err.splitlines() if "notifications:" in line]
    assert said == ["notifications: demo subscribed (order changes, feeds, reports)"] * 2


def test_run_says_which_seller_it_could_not_subscribe_and_why(
    sandbox: SandboxHandle, demo: str, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    ready = settings.model_copy(
        update={
            "amazon_region": Region.SANDBOX,
            "spapi_endpoint": sandbox.base_url,
            "sqs_queue_url": "",
            "sqs_endpoint_url": "",
        }
    )
    subscribe_sandbox_sellers(ready)

    said = [line for line in capsys.readouterr().err.splitlines() if "notifications:" in line]
    assert len(said) == 1 and said[0].startswith("notifications: demo not subscribed: no SQS queue")
    assert not sandbox.state.notifications.subscriptions
