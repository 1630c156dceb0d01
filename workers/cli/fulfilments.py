"""``fulfil`` (the CLI's door: the same request model, rules and reasons as HTTP and the queue)
and ``fulfilments list|show|retry|rejected``."""

from __future__ import annotations

import json
from typing import Any

import click

from domain.fulfilments import Accepted, Fulfilment, FulfilmentState, Rejected
from workers.cli.common import fail, refuse, store, table
from workers.doors.fulfilments.listing import STATES
from workers.doors.limits import ID_RANGE, ascii_id, shown
from workers.doors.paging import MAX_LIMIT

# What the rejected listing shows at most (a LIMIT the store takes: never negative, never
# past bigint).
MOST_LISTED = 1000


class FulfilmentIdType(click.ParamType[int]):
    """A fulfilment id as the store holds it: ASCII digits within bigint (``click.INT`` takes
    numbers of any size, and the store cannot look up one past bigint)."""

    name = "FULFILMENT_ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = ascii_id(str(value).strip())
        if number is None:
            self.fail(f"{shown(value)} is not a fulfilment id: {ID_RANGE}", param, ctx)
        return number


FULFILMENT_ID = FulfilmentIdType()


def _parse_line(value: str, name: str) -> dict[str, Any]:
    ref, sep, quantity = value.rpartition("=")
    # ASCII digits only: "2²" passes str.isdigit() but int() refuses it. The door's model
    # refuses a quantity past its column's range.
    if not sep or not ref or not (quantity.isascii() and quantity.isdigit()) or len(quantity) > 18:
        raise click.BadParameter(
            f"{shown(value)}: expected {name.upper()}=QUANTITY", param_hint=name
        )
    return {name: ref, "quantity": int(quantity)}


def fulfilment_request(
    account: str,
    amazon_order_id: str,
    *,
    platform_fulfilment_id: str,
    shipped_at: str,
    carrier_code: str,
    carrier_name: str | None,
    shipping_method: str | None,
    tracking_number: str,
    items: tuple[str, ...],
    skus: tuple[str, ...],
    cancellation_request_reviewed: bool,
) -> dict[str, Any]:
    """``fulfil``'s arguments and options as the JSON of a request (what the door reads)."""
    return {
        "account": account,
        "amazon_order_id": amazon_order_id,
        "platform_fulfilment_id": platform_fulfilment_id,
        "shipped_at": shipped_at,
        "carrier_code": carrier_code,
        "carrier_name": carrier_name,
        "shipping_method": shipping_method,
        "tracking_number": tracking_number,
        "lines": [_parse_line(v, "order_item_id") for v in items]
        + [_parse_line(v, "sku") for v in skus],
        "cancellation_request_reviewed": cancellation_request_reviewed,
    }


@click.command("fulfil")
@click.argument("account")
@click.argument("amazon_order_id")
@click.option("--id", "platform_fulfilment_id", required=True, help="The store's fulfilment id.")
@click.option("--shipped-at", required=True, help="When it shipped: ISO 8601 with its zone.")
@click.option("--carrier", "carrier_code", required=True, help="Amazon's carrier code, or Other.")
@click.option("--carrier-name", default=None, help="The carrier's name (with Other).")
@click.option("--method", "shipping_method", default=None, help="Shipping method (optional).")
@click.option("--tracking", "tracking_number", required=True, help="The tracking number.")
@click.option("--item", "items", multiple=True, help="ORDER_ITEM_ID=QUANTITY (repeatable).")
@click.option("--sku", "skus", multiple=True, help="SKU=QUANTITY (repeatable).")
@click.option(
    "--cancellation-request-reviewed",
    is_flag=True,
    help="Ship although the buyer asked to cancel (after checking Seller Central).",
)
def fulfil(account: str, amazon_order_id: str, **options: Any) -> None:
    """Confirm a store fulfilment (one package) on Amazon; no --item/--sku: all that remains."""
    from workers.doors.fulfilments import submit_fulfilment

    request = fulfilment_request(account, amazon_order_id, **options)
    with store():
        result = submit_fulfilment(request)
    if isinstance(result, Rejected):
        refuse(result.errors)
    f = result.fulfilment
    shipped = ", ".join(f"{line.quantity} x {line.sku or line.order_item_id}" for line in f.lines)
    if result.created:
        click.echo(
            f"accepted fulfilment {f.id} (package {f.package_reference_id}) of "
            f"{f.amazon_order_id}: {shipped}; queued for confirmation on Amazon"
        )
    else:
        click.echo(f"already accepted as fulfilment {f.id} ({f.state})")


@click.group("fulfilments")
def fulfilments() -> None:
    """Fulfilments sent to Amazon: their state, failures and retries."""


@fulfilments.command("list")
@click.option("--failed", is_flag=True, help="Only the failed ones (with the reason).")
@click.option("--state", default=None, help=STATES)
@click.option("--account", default=None, help="The seller account's name or id.")
@click.option("--order", default=None, help="Amazon's order id.")
@click.option("--since", default=None, help="Taken in at this time or later (ISO 8601; UTC).")
@click.option("--until", default=None, help="Taken in before this time (ISO 8601; UTC).")
@click.option("--after", default=None, help="The last id of the previous page.")
@click.option("--limit", default=None, help=f"At most this many (1 to {MAX_LIMIT}; 50).")
def fulfilments_list(failed: bool, order: str | None, since: str | None, **params: Any) -> None:
    """Fulfilments, oldest first: the API's listing (``GET /v1/fulfilments``)."""
    from workers.doors.fulfilments import fulfilment_store, page, read_listing

    if failed:
        if params["state"] not in (None, "failed"):
            fail("--failed: give it or --state, not both")
        params["state"] = "failed"
    params.update(amazon_order_id=order, created_since=since, created_until=params.pop("until"))
    listing = read_listing(params)
    if isinstance(listing, Rejected):
        refuse(listing.errors)
    with store():
        found = page(listing, fulfilment_store())
        if isinstance(found, Rejected):
            refuse(found.errors)
        amazon = fulfilment_store().amazon_views([f.id for f in found.fulfilments])
    table(
        ["id", "account", "amazon order", "platform id", "state", "shipped", "tries", "reason"],
        [
            [
                str(f.id),
                str(f.account_id),
                f.amazon_order_id,
                f.platform_fulfilment_id,
                f.state.value,
                f.shipped_at.strftime("%Y-%m-%d %H:%M"),
                str(f.attempts),
                _reason(f, amazon.get(f.id)),
            ]
            for f in found.fulfilments
        ],
    )
    if found.next_after is not None:
        click.echo(f"more: --after {found.next_after}")


def _reason(fulfilment: Fulfilment, amazon: str | None) -> str:
    if fulfilment.failure_code:
        return f"{fulfilment.failure_code}: {fulfilment.failure_reason}"
    if fulfilment.state is FulfilmentState.CONFIRMED:  # Amazon's view (a read error is no failure)
        return amazon or ""
    return fulfilment.failure_reason or fulfilment.last_error or ""


@fulfilments.command("show")
@click.argument("fulfilment_id", type=FULFILMENT_ID)
def fulfilments_show(fulfilment_id: int) -> None:
    """One fulfilment, as the platform's API shows it."""
    from workers.doors.fulfilments import fulfilment_store
    from workers.web.schemas import fulfilment_out

    with store():
        found = fulfilment_store().get(fulfilment_id)
    if found is None:
        fail(f"fulfilment_id: no fulfilment {fulfilment_id}")
    click.echo(json.dumps(fulfilment_out(found), indent=2))


@fulfilments.command("retry")
@click.argument("fulfilment_id", type=FULFILMENT_ID)
@click.option(
    "--cancellation-request-reviewed",
    is_flag=True,
    help="Ship although the buyer asked to cancel (after checking Seller Central).",
)
def fulfilments_retry(fulfilment_id: int, cancellation_request_reviewed: bool) -> None:
    """Send a failed fulfilment again, after fixing what Amazon refused."""
    from workers.doors.fulfilments import retry_failed

    with store():
        result = retry_failed(
            fulfilment_id, cancellation_request_reviewed=cancellation_request_reviewed
        )
    if isinstance(result, Rejected):
        refuse(result.errors)
    assert isinstance(result, Accepted)
    if result.created:
        click.echo(f"fulfilment {fulfilment_id} accepted again; queued for confirmation")
    else:
        click.echo(f"fulfilment {fulfilment_id} was retried already ({result.fulfilment.state})")


@fulfilments.command("rejected")
@click.option("--limit", type=click.IntRange(1, MOST_LISTED), default=50, show_default=True)
def fulfilments_rejected(limit: int) -> None:
    """Requests from the queue that were refused, with the reasons."""
    from workers.doors.fulfilments import fulfilment_store

    with store():
        rows = fulfilment_store().rejections(limit)
    table(
        ["id", "account", "amazon order", "platform id", "seen", "reasons"],
        [
            [
                str(r["id"]),
                r["account"] or "",
                r["amazon_order_id"] or "",
                r["platform_fulfilment_id"] or "",
                str(r["times_seen"]),
                "; ".join(f"{e['field']}: {e['reason']}" for e in r["errors"]),
            ]
            for r in rows
        ],
    )
