"""The CLI's refund doors before they reach the store: ``--line``'s pairs, ``--json``'s file
(its numbers as decimals), and the one-line errors with exit status 2."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from workers.cli import main
from workers.cli.refunds import parse_line, read_json, refund_request


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=stdin)


def test_a_line_is_its_reference_its_amounts_and_its_quantity() -> None:
    assert parse_line("order_item_id=A, item_price=19.99 ,tax=1.60", amounts=True) == {
        "order_item_id": "A",
        "amounts": {"item_price": "19.99", "tax": "1.60"},
    }
    assert parse_line("sku=MUG,quantity=2", amounts=True) == {"sku": "MUG", "quantity": 2}
    # A quantity that is no number is the model's to refuse, as it is; a cancellation's line
    # has no amounts, so a component's name is a field it does not know.
    assert parse_line("sku=MUG,quantity=2²", amounts=False) == {"sku": "MUG", "quantity": "2²"}
    assert parse_line("sku=MUG,tax=1", amounts=False) == {"sku": "MUG", "tax": "1"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("sku", "expected key=value pairs"),
        ("sku=A,,tax=1", "expected key=value pairs"),
        ("=A", "expected key=value pairs"),
        ("sku=A,sku=B", "sku given twice"),
    ],
)
def test_a_line_that_is_no_pairs_is_refused_naming_the_option(value: str, reason: str) -> None:
    with pytest.raises(click.BadParameter) as caught:
        parse_line(value, amounts=True)
    assert reason in caught.value.message


def test_json_numbers_are_read_as_decimals(tmp_path: Path) -> None:
    path = tmp_path / "refund.json"
    path.write_text('{"lines": [{"amounts": {"item_price": 19.99}}]}')
    data = read_json(str(path))
    assert data["lines"][0]["amounts"]["item_price"] == Decimal("19.99")
    request = refund_request(
        account=None,
        order=None,
        platform_refund_id=None,
        reason=None,
        currency=None,
        lines=(),
        json_source=str(path),
    )
    assert request == data


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["refund", "--line", "sku"], None, "expected key=value pairs"),
        (["refund", "--json", "-", "--account", "acme"], "{}", "give no other option with it"),
        (["refund", "--json", "-"], "{not json", "--json: - is not valid JSON"),
        (["refund", "--json", "-"], '{"a": NaN}', "--json: - is not valid JSON"),
        (["cancel", "--json", "/nonexistent/c.json"], None, "--json: cannot read"),
        (["refunds", "show", "²"], None, "is not a refund id"),
        (["refunds", "retry", "9" * 30], None, "is not a refund id"),
    ],
)
def test_the_cli_refuses_before_the_store_with_one_line_and_status_2(
    args: list[str], stdin: str | None, message: str
) -> None:
    result = run(*args, stdin=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
