"""``refund`` and ``cancel`` (the CLI's doors: the same request models, rules and reasons as HTTP
and the queue) and ``refunds list|show|retry|rejected``.

A request is given by options (``--line`` once per line, as ``key=value`` pairs) or whole as
JSON (``--json FILE``, ``-`` for standard input; its numbers are read as decimals)::

    amazon-channel refund --account acme --order 113-1234567-1234567 \\
        --platform-refund-id R-1 --reason customer_return \\
        --line order_item_id=12345678901234,item_price=19.99,tax=1.60 --line sku=MUG,quantity=1
    amazon-channel cancel --account acme --order 113-1234567-1234567 \\
        --platform-cancellation-id C-1 --reason buyer_canceled --line sku=MUG,quantity=1
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any, NoReturn

import click

from domain.refunds import FIELD_NAMES, Accepted, Refund, RefundKind, RefundState
from domain.shared import Rejected
from infra.platform.payloads import amount_text
from workers.cli.common import fail, refuse, store, table
from workers.doors.limits import ID_RANGE, ascii_id, shown
from workers.doors.refunds.listing import MAX_LIMIT

MOST_REJECTED = 1000


class RefundIdType(click.ParamType[int]):
    """A refund or cancellation id as the store holds it: ASCII digits within bigint."""

    name = "REFUND_ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = ascii_id(str(value).strip())
        if number is None:
            self.fail(f"{shown(value)} is not a refund id: {ID_RANGE}", param, ctx)
        return number


REFUND_ID = RefundIdType()


def parse_line(value: str, *, amounts: bool) -> dict[str, Any]:
    """``--line``'s ``key=value,key=value`` as a line of the request: a component's name goes
    into the line's ``amounts`` (for a refund), a quantity of ASCII digits is a number, every
    other key is the line's own (so an unknown one is refused by the model, by its path)."""
    line: dict[str, Any] = {}
    given: dict[str, str] = {}
    for part in value.split(","):
        key, sep, text = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(
                f"{shown(value)}: expected key=value pairs, such as "
                "order_item_id=12345678901234,item_price=19.99",
                param_hint="--line",
            )
        if key in given:
            raise click.BadParameter(f"{shown(value)}: {key} given twice", param_hint="--line")
        given[key] = text.strip()
    for key, text in given.items():
        if amounts and key in FIELD_NAMES:
            line.setdefault("amounts", {})[key] = text
        elif key == "quantity" and text.isascii() and text.isdigit() and len(text) <= 18:
            line[key] = int(text)
        else:
            line[key] = text
    return line


def read_json(source: str) -> Any:
    """The request's JSON from a file or standard input (``-``), numbers as decimals."""
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as file:
                text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--json: cannot read {source}: {exc}")
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_not_json)
    except RecursionError:
        fail("--json: nested too deep")
    except ValueError as exc:
        fail(f"--json: {source} is not valid JSON ({exc})")


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is no JSON number")


def _request(options: dict[str, Any], json_source: str | None, lines: list[Any]) -> Any:
    given = {key: value for key, value in options.items() if value is not None}
    if json_source is not None:
        if given or lines:
            fail("--json: the file is the whole request; give no other option with it")
        return read_json(json_source)
    if lines:
        given["lines"] = lines
    return given


def refund_request(
    *,
    account: str | None,
    order: str | None,
    platform_refund_id: str | None,
    reason: str | None,
    currency: str | None,
    lines: tuple[str, ...],
    json_source: str | None = None,
) -> Any:
    """``refund``'s options as the JSON of a request (what the door reads)."""
    options = {
        "account": account,
        "amazon_order_id": order,
        "platform_refund_id": platform_refund_id,
        "reason": reason,
        "currency": currency,
    }
    return _request(options, json_source, [parse_line(v, amounts=True) for v in lines])


def cancellation_request(
    *,
    account: str | None,
    order: str | None,
    platform_cancellation_id: str | None,
    reason: str | None,
    refund_amount: str | None,
    currency: str | None,
    lines: tuple[str, ...],
    json_source: str | None = None,
) -> Any:
    """``cancel``'s options as the JSON of a request."""
    options = {
        "account": account,
        "amazon_order_id": order,
        "platform_cancellation_id": platform_cancellation_id,
        "reason": reason,
        "refund_amount": refund_amount,
        "currency": currency,
    }
    return _request(options, json_source, [parse_line(v, amounts=False) for v in lines])


def _money(refund: Refund) -> str:
    return f"{amount_text(refund.total.amount, refund.currency)} {refund.currency}"


def _said(result: Accepted | Rejected) -> None:
    if isinstance(result, Rejected):
        refuse(result.errors)
    refund = result.refund
    kind = refund.kind.value
    if not result.created:
        click.echo(f"already accepted as {kind} {refund.id} ({refund.state})")
        return
    head = f"{kind} {refund.id} of {refund.amazon_order_id}: {_money(refund)} back"
    if refund.state is RefundState.HELD:
        click.echo(f"held {head}; the account is disconnected: nothing is sent until it is back")
    elif refund.state is RefundState.AWAITING_APPROVAL:
        click.echo(f"accepted {head}; it awaits a person's approval before it is sent")
    else:
        click.echo(f"accepted {head}; queued for Amazon")


json_option = click.option(
    "--json", "json_source", default=None, help="The whole request as JSON: a file, or - for stdin."
)


@click.command("refund")
@click.option("--account", default=None, help="The seller account's name or id.")
@click.option("--order", default=None, help="Amazon's order id.")
@click.option("--platform-refund-id", default=None, help="The store's refund id.")
@click.option("--reason", default=None, help="customer_return, goodwill, ... or CustomerReturn.")
@click.option("--currency", default=None, help="ISO 4217 (optional; the order's).")
@click.option(
    "--line",
    "lines",
    multiple=True,
    help="order_item_id=ID or sku=SKU, then amounts (item_price=19.99,tax=1.60,...) or "
    "quantity=N (repeatable).",
)
@json_option
def refund(**options: Any) -> None:
    """Refund lines of an Amazon order on Amazon (its adjustment feed), once."""
    request = refund_request(**options)  # refused here, before the store starts

    from workers.doors.refunds.intake import submit_refund

    with store():
        _said(submit_refund(request))


@click.command("cancel")
@click.option("--account", default=None, help="The seller account's name or id.")
@click.option("--order", default=None, help="Amazon's order id.")
@click.option("--platform-cancellation-id", default=None, help="The store's cancellation id.")
@click.option("--reason", default=None, help="buyer_canceled, no_inventory, ... or BuyerCanceled.")
@click.option("--refund-amount", default=None, help="What goes back (default: computed).")
@click.option("--currency", default=None, help="ISO 4217 (optional; the order's).")
@click.option(
    "--line",
    "lines",
    multiple=True,
    help="order_item_id=ID or sku=SKU, and quantity=N (repeatable; none: the whole order).",
)
@json_option
def cancel(**options: Any) -> None:
    """Cancel unshipped units of an Amazon order on Amazon, with the refund of what they
    charged; no --line: the whole order."""
    request = cancellation_request(**options)

    from workers.doors.refunds.intake import submit_cancellation

    with store():
        _said(submit_cancellation(request))


@click.group("refunds")
def refunds() -> None:
    """Refunds and cancellations sent to Amazon: their state, failures and retries."""


@refunds.command("list")
@click.option("--account", default=None, help="The seller account's name or id.")
@click.option("--order", default=None, help="Amazon's order id.")
@click.option("--state", default=None, help=", ".join(RefundState))
@click.option("--kind", type=click.Choice([k.value for k in RefundKind]), default=None)
@click.option("--after", default=None, help="The last id of the previous page.")
@click.option("--limit", default=None, help=f"At most this many (1 to {MAX_LIMIT}; 50).")
def refunds_list(
    account: str | None,
    order: str | None,
    state: str | None,
    kind: str | None,
    after: str | None,
    limit: str | None,
) -> None:
    """Refunds and cancellations, oldest first."""
    from workers.doors.refunds.intake import refund_store
    from workers.doors.refunds.listing import page, read_listing

    params = {
        "account": account,
        "amazon_order_id": order,
        "state": state,
        "after": after,
        "limit": limit,
    }
    listing = read_listing(RefundKind(kind) if kind else None, params)
    if isinstance(listing, Rejected):
        refuse(listing.errors)
    with store():
        found = page(listing, refund_store())
    if isinstance(found, Rejected):
        refuse(found.errors)
    table(
        ["id", "kind", "account", "amazon order", "platform id", "state", "total", "reason"],
        [
            [
                str(r.id),
                r.kind.value,
                str(r.account_id),
                r.amazon_order_id,
                r.platform_id or f"({r.source.value})",
                r.state.value,
                _money(r),
                f"{r.failure_code}: {r.failure_reason}" if r.failure_code else r.reason,
            ]
            for r in found.refunds
        ],
    )
    if found.next_after is not None:
        click.echo(f"more: --after {found.next_after}")


@refunds.command("show")
@click.argument("refund_id", type=REFUND_ID)
def refunds_show(refund_id: int) -> None:
    """One refund or cancellation, as the platform's API shows it."""
    from workers.doors.refunds.intake import refund_store
    from workers.web.schemas import refund_out

    with store():
        found = refund_store().get(refund_id)
    if found is None:
        fail(f"refund_id: no refund or cancellation {refund_id}")
    click.echo(json.dumps(refund_out(found), indent=2))


@refunds.command("retry")
@click.argument("refund_id", type=REFUND_ID)
def refunds_retry(refund_id: int) -> None:
    """Send a failed refund or cancellation again, after fixing what Amazon refused."""
    from workers.doors.refunds.intake import retry_failed

    with store():
        result = retry_failed(refund_id)
    if isinstance(result, Rejected):
        refuse(result.errors)
    kind = result.refund.kind.value
    if result.created:
        click.echo(f"{kind} {refund_id} accepted again ({result.refund.state}); queued for Amazon")
    else:
        click.echo(f"{kind} {refund_id} was retried already ({result.refund.state})")


@refunds.command("rejected")
@click.option("--kind", type=click.Choice([k.value for k in RefundKind]), default=None)
@click.option("--limit", type=click.IntRange(1, MOST_REJECTED), default=50, show_default=True)
def refunds_rejected(kind: str | None, limit: int) -> None:
    """Requests from the queue that were refused, with the reasons."""
    from workers.doors.refunds.intake import refund_store

    with store():
        rows = refund_store().rejections(RefundKind(kind) if kind else None, limit)
    table(
        ["id", "kind", "account", "amazon order", "platform id", "seen", "reasons"],
        [
            [
                str(r["id"]),
                r["kind"],
                r["account"] or "",
                r["amazon_order_id"] or "",
                r["platform_id"] or "",
                str(r["times_seen"]),
                "; ".join(f"{e['field']}: {e['reason']}" for e in r["errors"]),
            ]
            for r in rows
        ],
    )
