"""The CLI's doors of refunds and cancellations (click's CliRunner on the real store and broker):
the same reasons as HTTP and the queue, one line each with status 2; a request by options or as
JSON; the listing, one shown as the API shows it, a failed one retried, the queue's refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from domain.orders import AmazonOrder
from infra.db.tables import Refund as RefundRow
from tests.integration.workers.fulfilments import cli, count
from tests.integration.workers.refunds import drain_refunds, refund_body
from workers import bootstrap
from workers.doors.refunds.intake import take_in

pytestmark = pytest.mark.integration


def refund_args(order: AmazonOrder, *more: str) -> list[str]:
    return [
        "refund",
        *("--account", "acme", "--order", order.amazon_order_id),
        *("--platform-refund-id", "R-1", "--reason", "customer_return"),
        *more,
    ]


def test_the_cli_refunds_once_and_queues_the_flush(
    celery_app: Any, charged: AmazonOrder, cli_env: dict[str, str], clean_db: Engine
) -> None:
    line = f"order_item_id={charged.lines[0].order_item_id},item_price=9.99,tax=0.80"
    args = refund_args(charged, "--line", line, "--line", "sku=MUG-BLUE,quantity=1")
    accepted = cli(cli_env, *args)
    assert accepted.exit_code == 0, accepted.output
    assert accepted.output.strip() == (
        f"accepted refund 1 of {charged.amazon_order_id}: 16.19 USD back; queued for Amazon"
    )
    again = cli(cli_env, *args)
    assert (
        again.exit_code == 0 and again.output.strip() == "already accepted as refund 1 (accepted)"
    )
    assert count(clean_db, RefundRow) == 1
    assert [h["task"] for h, _ in drain_refunds(celery_app)] == ["refund.flush"]


def test_the_cli_refuses_every_problem_in_the_models_words_then_the_rules(
    charged: AmazonOrder, cli_env: dict[str, str], clean_db: Engine
) -> None:
    refused = cli(
        cli_env,
        *refund_args(charged, "--currency", "JPY"),
        *("--line", "sku=MUG-RED,item_price=1.50,colour=red", "--line", "sku=MUG-BLUE"),
    )
    assert refused.exit_code == 2
    assert refused.output.splitlines() == [
        "error: lines[0].colour: unknown field",
        "error: lines[0].amounts.item_price: must be a whole amount (JPY), with no decimal places",
        "error: lines[1]: give amounts or a quantity (one)",
    ]
    by_rules = cli(
        cli_env, *refund_args(charged, "--currency", "EUR", "--line", "sku=X,quantity=1")
    )
    assert by_rules.exit_code == 2
    assert "error: currency: the order is in USD, not EUR" in by_rules.output.splitlines()
    assert any(line.startswith("error: lines[0].sku: ") for line in by_rules.output.splitlines())
    nobody = cli(cli_env, "refunds", "list", "--account", "nobody")
    assert nobody.exit_code == 2
    assert nobody.output.strip() == "error: account: no seller account 'nobody'"
    bad_state = cli(cli_env, "refunds", "list", "--state", "lost", "--limit", "0")
    assert bad_state.exit_code == 2 and len(bad_state.output.splitlines()) == 2
    assert count(clean_db, RefundRow) == 0


def test_a_request_as_json_reads_its_numbers_as_decimals(
    celery_app: Any, charged: AmazonOrder, cli_env: dict[str, str], tmp_path: Path
) -> None:
    body = refund_body(charged)
    body["lines"][0]["amounts"] = {"item_price": "PRICE"}
    path = tmp_path / "refund.json"
    path.write_text(json.dumps(body).replace('"PRICE"', "9.99"))
    accepted = cli(cli_env, "refund", "--json", str(path))
    assert accepted.exit_code == 0, accepted.output
    assert ": 9.99 USD back" in accepted.output
    shown = cli(cli_env, "refunds", "show", "1")
    assert shown.exit_code == 0
    assert json.loads(shown.output)["lines"][0]["amounts"]["item_price"] == "9.99"


def test_the_cli_cancels_the_whole_order_lists_and_shows_it(
    celery_app: Any, charged: AmazonOrder, cli_env: dict[str, str]
) -> None:
    cancel = [
        "cancel",
        *("--account", "acme", "--order", charged.amazon_order_id),
        *("--platform-cancellation-id", "C-1", "--reason", "buyer_canceled"),
    ]
    accepted = cli(cli_env, *cancel)
    assert accepted.exit_code == 0, accepted.output
    assert "accepted cancellation 1" in accepted.output and "43.16 USD back" in accepted.output
    listed = cli(
        cli_env, "refunds", "list", "--kind", "cancellation", "--order", charged.amazon_order_id
    )
    assert listed.exit_code == 0, listed.output
    (row,) = listed.output.splitlines()[2:]
    assert row.split()[:3] == ["1", "cancellation", "1"] and "C-1" in row and "BuyerCanceled" in row
    assert "(none)" in cli(cli_env, "refunds", "list", "--kind", "refund").output
    shown = json.loads(cli(cli_env, "refunds", "show", "1").output)
    assert shown["cancellation_id"] == 1 and shown["whole_order"] is True
    missing = cli(cli_env, "refunds", "show", "99")
    assert missing.exit_code == 2
    assert missing.output.strip() == "error: refund_id: no refund or cancellation 99"


def test_a_failed_refund_is_listed_with_amazons_reason_and_retried_once(
    celery_app: Any, charged: AmazonOrder, cli_env: dict[str, str], clean_db: Engine
) -> None:
    line = f"order_item_id={charged.lines[0].order_item_id},item_price=9.99"
    assert cli(cli_env, *refund_args(charged, "--line", line)).exit_code == 0
    drain_refunds(celery_app)
    with clean_db.begin() as conn:  # what the sending side records when Amazon refuses it
        conn.execute(
            update(RefundRow).values(
                state="failed", failure_code="25", failure_reason="exceeds the order"
            )
        )
    listed = cli(cli_env, "refunds", "list", "--state", "failed")
    assert "25: exceeds the order" in listed.output
    retried = cli(cli_env, "refunds", "retry", "1")
    assert retried.exit_code == 0, retried.output
    assert retried.output.strip() == "refund 1 accepted again (accepted); queued for Amazon"
    again = cli(cli_env, "refunds", "retry", "1")
    assert again.exit_code == 2 and again.output.startswith("error: ")
    assert [h["task"] for h, _ in drain_refunds(celery_app)] == ["refund.flush"]


def test_the_queues_refusals_are_listed_with_their_reasons(
    charged: AmazonOrder, cli_env: dict[str, str], container: bootstrap.Container
) -> None:
    message = {"version": 1, "type": "refund.requested", **refund_body(charged, reason="why")}
    take_in(message, container.refund_store, container.clock)
    listed = cli(cli_env, "refunds", "rejected", "--kind", "refund")
    assert listed.exit_code == 0, listed.output
    (row,) = listed.output.splitlines()[2:]
    assert "R-1" in row and "reason: 'why' is not a refund reason" in row
