"""Hostile input through the CLI's door on the real store: arguments the store cannot hold
(lone surrogates, as undecodable bytes in argv become, ids past bigint, ``"²"``, calendar edges,
quantities past int4, negative limits) are refused in one line each with exit status 2, never
a traceback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from domain.orders import AmazonOrder
from infra.db.tables import Fulfilment as FulfilmentRow
from tests.integration.workers.fulfilments import cli, count

pytestmark = pytest.mark.integration

BIGINT_PAST = str(2**63)


def fulfil(order: AmazonOrder, *changes: str, account: str = "acme") -> list[str]:
    shipped = (order.purchased_at + timedelta(hours=3)).isoformat()
    options = {
        "--id": "F-9",
        "--shipped-at": shipped,
        "--carrier": "UPS",
        "--tracking": "1Z1",
        "--sku": "MUG-RED=1",
    }
    options.update(dict(zip(changes[::2], changes[1::2], strict=True)))
    return ["fulfil", account, order.amazon_order_id, *(x for kv in options.items() for x in kv)]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--tracking", "1Z\udcff"), "error: tracking_number: is not valid Unicode text"),
        (("--id", "F\x1b[2J"), "error: platform_fulfilment_id: must not contain control"),
        (("--shipped-at", "0001-01-01T00:00:00+14:00"), "must lie between 2000-01-01 and 2100"),
        (("--shipped-at", "9999-12-31T23:59:59-14:00"), "must lie between 2000-01-01 and 2100"),
        (("--sku", "MUG-RED=²"), "expected SKU=QUANTITY"),
        (("--sku", f"MUG-RED={2**31}"), "error: lines[0].quantity: must be at most 2147483647"),
        (("--sku", f"MUG-RED={'9' * 5000}"), "expected SKU=QUANTITY"),
    ],
)
def test_fulfil_refuses_what_the_store_cannot_hold(
    order: AmazonOrder,
    cli_env: dict[str, str],
    clean_db: Engine,
    args: tuple[str, ...],
    says: str,
) -> None:
    result = cli(cli_env, *fulfil(order, *args))
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert count(clean_db, FulfilmentRow) == 0


@pytest.mark.parametrize("account", ["99999999999999999999", "²", "ac\udcffme"])
def test_fulfil_refuses_an_account_the_store_cannot_look_up(
    order: AmazonOrder, cli_env: dict[str, str], clean_db: Engine, account: str
) -> None:
    result = cli(cli_env, *fulfil(order, account=account))
    assert result.exit_code == 2, result.output
    assert "error: account: " in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("fulfilments", "show", BIGINT_PAST),
        ("fulfilments", "show", "²"),
        ("fulfilments", "retry", BIGINT_PAST),
        ("fulfilments", "retry", "0"),
        ("fulfilments", "list", "--limit", "-1"),
        ("fulfilments", "list", "--limit", BIGINT_PAST),
        ("fulfilments", "list", "--account", "ac\udcffme"),
        ("fulfilments", "list", "--account", "²"),
        ("fulfilments", "list", "--account", BIGINT_PAST),
        ("fulfilments", "rejected", "--limit", "-5"),
    ],
)
def test_operator_commands_refuse_ids_and_limits_the_store_cannot_take(
    cli_env: dict[str, str], clean_db: Engine, args: tuple[str, ...]
) -> None:
    result: Any = cli(cli_env, *args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
