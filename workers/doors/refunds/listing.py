"""The listing of refunds or cancellations that HTTP's ``GET /v1/refunds?...`` and the CLI's
``refunds list`` page through: its parameters read as text and refused with the parameter's
name and a reason (an unknown state, a limit out of range, an account the store does not
know), then one page, oldest first, and the cursor of the next (``workers.doors.paging``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.refunds import Refund, RefundKind, RefundState, RefundViews
from domain.shared import FieldError, Rejected
from workers.doors import paging
from workers.doors.paging import DEFAULT_LIMIT, MAX_LIMIT, account_id_of

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "PARAMETERS", "Listing", "Page", "page", "read_listing"]

PARAMETERS = ("account", "amazon_order_id", "state", "after", "limit")
STATES = ", ".join(RefundState)


@dataclass(frozen=True, slots=True)
class Listing:
    kind: RefundKind | None
    account: str | None = None
    amazon_order_id: str | None = None
    state: RefundState | None = None
    after: int | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class Page:
    refunds: list[Refund]
    next_after: int | None  # None: the last page


def read_listing(kind: RefundKind | None, params: Mapping[str, str | None]) -> Listing | Rejected:
    """The listing asked by ``params`` (text, as a query string or the CLI's options give
    them), or every parameter refused with its reason."""
    errors: list[FieldError] = []
    account = paging.text("account", params.get("account"), 100, errors)
    order = paging.text("amazon_order_id", params.get("amazon_order_id"), 40, errors)
    state = paging.choice("state", params.get("state"), RefundState, STATES, errors)
    after = paging.cursor(params.get("after"), errors)
    limit = paging.limit(params.get("limit"), errors)
    if errors:
        return Rejected(tuple(errors))
    return Listing(kind, account, order, state, after, limit)


def page(listing: Listing, views: RefundViews) -> Page | Rejected:
    """One page of the listing; an account the store does not know is refused."""
    account_id = None
    if listing.account is not None:
        account_id = account_id_of(listing.account)
        if account_id is None:
            return Rejected((paging.no_account(listing.account),))
    found = views.list(
        kind=listing.kind,
        account_id=account_id,
        amazon_order_id=listing.amazon_order_id,
        state=listing.state,
        after_id=listing.after,
        limit=listing.limit + 1,
    )
    rows, next_after = paging.cut(found, listing.limit, lambda refund: refund.id)
    return Page(rows, next_after)
