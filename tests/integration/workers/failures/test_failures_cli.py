"""``failures list|show|retry|discard`` on the real store and broker: one list of what failed
(dead letters, failed fulfilments, failed refunds), each retried by its own path (a fulfilment
by ``fulfilments retry``, a refund by ``refunds retry``), and bad ids refused in one line."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update

from domain.orders import AmazonOrder
from infra.db.failures import Letter, SqlFailures
from infra.db.tables import Refund as RefundRow
from tests.integration.workers.fulfilments import body, cli, drain
from tests.integration.workers.refunds import drain_refunds
from workers.doors import fulfilments as producer

pytestmark = pytest.mark.integration


def rows(output: str) -> dict[str, list[str]]:
    """The listing's rows by their id (the first column)."""
    return {line.split()[0]: line.split() for line in output.splitlines()[2:] if line.strip()}


def test_one_list_shows_dead_letters_failed_fulfilments_and_refunds_each_retried_its_way(
    celery_app: Any,
    order: AmazonOrder,
    charged: AmazonOrder,
    cli_env: dict[str, str],
    clean_db: Engine,
) -> None:
    letter_id = SqlFailures(clean_db).record(
        Letter(
            message_key="t-1",
            reason="permanent_error",
            task_name="fulfil.confirm",
            task_id="t-1",
            queue="fulfil",
            args=[41],
            kwargs={},
            error_type="DataError",
            error_message="value too long",
        )
    )
    fulfilment = producer.submit_fulfilment(body(order), app=celery_app)
    fulfilment_id = fulfilment.fulfilment.id  # type: ignore[union-attr]
    store = producer.fulfilment_store()
    store.claim(fulfilment_id, "w1", timedelta(minutes=6))
    store.record_failed(fulfilment_id, "w1", "InvalidInput", "Invalid trackingNumber")
    line = f"order_item_id={charged.lines[0].order_item_id},item_price=9.99"
    refund = cli(
        cli_env,
        *("refund", "--account", "acme", "--order", charged.amazon_order_id),
        *("--platform-refund-id", "R-1", "--reason", "customer_return", "--line", line),
    )
    assert refund.exit_code == 0, refund.output
    with clean_db.begin() as conn:
        conn.execute(
            update(RefundRow).values(
                state="failed", failure_code="25", failure_reason="exceeds the order"
            )
        )
    drain(celery_app)
    drain_refunds(celery_app)

    listed = cli(cli_env, "failures", "list")
    assert listed.exit_code == 0, listed.output
    found = rows(listed.output)
    assert found[str(letter_id)][:4] == [
        str(letter_id),
        "permanent_error",
        "fulfil.confirm",
        "waiting",
    ]
    assert found[f"fulfilment:{fulfilment_id}"][1:4] == [
        "fulfilment",
        order.amazon_order_id,
        "failed",
    ]
    assert "InvalidInput: Invalid trackingNumber" in listed.output
    assert found["refund:1"][1:4] == ["refund", charged.amazon_order_id, "failed"]
    assert "25: exceeds the order" in listed.output
    only_retried = cli(cli_env, "failures", "list", "--state", "retried")
    assert only_retried.output.splitlines()[2] == "(none)"

    shown = cli(cli_env, "failures", "show", f"fulfilment:{fulfilment_id}")
    assert json.loads(shown.output)["state"] == "failed"

    again = cli(cli_env, "failures", "retry", f"fulfilment:{fulfilment_id}")
    assert again.exit_code == 0, again.output
    assert (
        again.output.strip()
        == f"fulfilment {fulfilment_id} accepted again; queued for confirmation"
    )
    assert [h["task"] for h, _ in drain(celery_app)] == ["fulfil.confirm"]
    refunded = cli(cli_env, "failures", "retry", "refund:1")
    assert refunded.output.strip() == "refund 1 accepted again (accepted); queued for Amazon"
    assert [h["task"] for h, _ in drain_refunds(celery_app)] == ["refund.flush"]

    retried = cli(cli_env, "failures", "retry", str(letter_id))
    assert retried.exit_code == 0, retried.output
    assert [(h["task"], args) for h, (args, _, _) in drain(celery_app)] == [
        ("fulfil.confirm", [41])
    ]
    twice = cli(cli_env, "failures", "retry", str(letter_id))
    assert twice.output.strip() == f"failure {letter_id} was retried already; nothing sent"
    assert drain(celery_app) == []
    late = cli(cli_env, "failures", "discard", str(letter_id))
    assert late.exit_code == 0 and f"failure {letter_id} is retried" in late.output
    after = rows(cli(cli_env, "failures", "list").output)
    assert f"fulfilment:{fulfilment_id}" not in after and "refund:1" not in after


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["show", "7"], "error: id: no failure 7"),
        (["retry", "7"], "error: id: no failure 7"),
        (["discard", "7"], "error: id: no failure 7"),
        (["discard", "fulfilment:1"], "error: id: fulfilment:1 is not a dead letter"),
        (["retry", "order:1"], "'order:1' is not a failure id"),
        (["show", "refund:x"], "'refund:x' is not a failure id"),
        (["list", "--state", "lost"], "'lost' is not one of"),
    ],
)
def test_a_bad_failure_id_is_one_line_with_status_2(
    cli_env: dict[str, str], clean_db: Engine, args: list[str], said: str
) -> None:
    result = cli(cli_env, "failures", *args)
    assert result.exit_code == 2
    assert said in result.output
    assert "Traceback" not in result.output


def test_a_malformed_dead_letter_cannot_be_sent_again_and_is_discarded(
    cli_env: dict[str, str], clean_db: Engine
) -> None:
    letter_id = SqlFailures(clean_db).record(
        Letter(message_key="sha256:ab", reason="malformed", body="{not json", queue="events")
    )
    assert SqlFailures(clean_db).waiting_by_reason()["malformed"] == 1
    refused = cli(cli_env, "failures", "retry", str(letter_id))
    assert refused.exit_code == 2
    assert "a message that is no task's: nothing to send again; discard it" in refused.output
    discarded = cli(cli_env, "failures", "discard", str(letter_id))
    assert discarded.output.strip() == f"failure {letter_id} is discarded"
    listed = rows(cli(cli_env, "failures", "list", "--state", "discarded").output)
    assert listed[str(letter_id)][1:5] == ["malformed", "(queue", "events)", "discarded"]
    assert SqlFailures(clean_db).waiting_by_reason() == {
        "malformed": 0,
        "unknown_task": 0,
        "permanent_error": 0,
        "worker_lost": 0,
    }


def test_the_same_message_again_is_the_same_dead_letter_seen_again(clean_db: Engine) -> None:
    store = SqlFailures(clean_db)
    letter = Letter(message_key="t-9", reason="unknown_task", task_name="ingest.gone", args=[1])
    first = store.record(letter)
    assert store.discard(first)
    assert store.record(letter) == first
    again = store.get(first)
    assert again is not None
    assert (again.deliveries, again.state) == (2, "waiting")  # it failed again: not lost
    assert again.last_seen_at > again.first_seen_at
