"""The CLI's door of fulfilment intake (click's CliRunner on the real store and broker): the
same reasons as HTTP and the queue, the failed ones listed with Amazon's reason and retried,
and the orders late for their ship-by date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from domain.orders import AmazonOrder
from infra.db.tables import Fulfilment as FulfilmentRow
from tests.integration.workers.fulfilments import add_order, body, cli, count, drain
from workers import bootstrap
from workers.doors import fulfilments as producer

pytestmark = pytest.mark.integration


def test_the_cli_accepts_a_fulfilment_and_explains_a_refusal(
    celery_app: Any, order: AmazonOrder, cli_env: dict[str, str], clean_db: Engine
) -> None:
    shipped = (order.purchased_at + timedelta(hours=3)).isoformat()
    fulfil = ["fulfil", "acme", order.amazon_order_id, "--id", "F-9", "--shipped-at", shipped]
    refused = cli(cli_env, *fulfil, "--carrier", "Pony", "--tracking", "P1", "--sku", "MUG-RED=1")
    assert refused.exit_code == 2
    assert "error: carrier_code: 'Pony' is not a carrier code Amazon knows" in refused.output
    good = [*fulfil, "--carrier", "UPS", "--tracking", "1Z1", "--item", "0000001-A=1"]
    accepted = cli(cli_env, *good)
    assert accepted.exit_code == 0, accepted.output
    assert "accepted fulfilment 1 (package 1)" in accepted.output
    again = cli(cli_env, *good)
    assert again.exit_code == 0 and "already accepted as fulfilment 1" in again.output
    assert count(clean_db, FulfilmentRow) == 1
    assert [h["task"] for h, _ in drain(celery_app)] == ["fulfil.confirm"]


def test_the_cli_lists_failed_fulfilments_with_the_reason_and_retries_them(
    celery_app: Any,
    order: AmazonOrder,
    cli_env: dict[str, str],
    container: bootstrap.Container,
) -> None:
    result = producer.submit_fulfilment(body(order), app=celery_app)
    fulfilment_id = result.fulfilment.id  # type: ignore[union-attr]
    store = producer.fulfilment_store()
    store.claim(fulfilment_id, "w1", timedelta(minutes=6))
    store.record_failed(fulfilment_id, "w1", "InvalidInput", "Invalid trackingNumber")
    listed = cli(cli_env, "fulfilments", "list", "--failed")
    assert listed.exit_code == 0, listed.output
    assert "InvalidInput: Invalid trackingNumber" in listed.output
    retried = cli(cli_env, "fulfilments", "retry", str(fulfilment_id))
    assert retried.exit_code == 0 and "accepted again" in retried.output
    again = cli(cli_env, "fulfilments", "retry", str(fulfilment_id))
    assert again.exit_code == 2 and "only a failed one can be retried" in again.output
    shown = cli(cli_env, "fulfilments", "show", str(fulfilment_id))
    assert '"state": "accepted"' in shown.output


def test_orders_late_lists_orders_near_or_past_their_ship_by(
    container: bootstrap.Container, account_id: int, cli_env: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    add_order(container, account_id, 7, ship_by_latest=now - timedelta(hours=2))
    add_order(container, account_id, 8, ship_by_latest=now + timedelta(hours=3))
    add_order(container, account_id, 9, ship_by_latest=now + timedelta(days=5))
    late = cli(cli_env, "orders", "late")
    assert late.exit_code == 0, late.output
    lines = late.output.splitlines()
    assert "113-0000007-0000001" in lines[2] and "MISSED" in lines[2]
    assert "113-0000008-0000001" in lines[3] and "soon" in lines[3]
    assert "113-0000009-0000001" not in late.output


def test_the_cli_refuses_every_problem_of_its_options_in_the_models_words(
    order: AmazonOrder, cli_env: dict[str, str], clean_db: Engine
) -> None:
    refused = cli(
        cli_env,
        *["fulfil", "acme", order.amazon_order_id, "--id", " ", "--shipped-at", "tomorrow"],
        *["--carrier", "Other", "--tracking", "T1", "--item", "A=0", "--sku", "B=1"],
    )
    assert refused.exit_code == 2
    assert refused.output.splitlines() == [
        "error: platform_fulfilment_id: required",
        "error: shipped_at: 'tomorrow' is not an ISO 8601 time",
        "error: carrier_name: required when carrier_code is 'Other'",
        "error: lines[0].quantity: must be a whole number of at least 1",
    ]
    assert count(clean_db, FulfilmentRow) == 0
