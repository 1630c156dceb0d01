"""The listing of fulfilments that HTTP's ``GET /v1/fulfilments?...`` and the CLI's
``fulfilments list`` page through: the refunds' listing (``workers.doors.paging``) with the
fulfilments' filters, by account, Amazon order, state and when it was taken in
(``created_since`` inclusive, ``created_until`` exclusive), oldest first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.fulfilments import Fulfilment, FulfilmentState, FulfilmentViews
from domain.shared import FieldError, Rejected
from workers.doors import paging
from workers.doors.paging import DEFAULT_LIMIT

PARAMETERS = (
    "account",
    "amazon_order_id",
    "state",
    "created_since",
    "created_until",
    "after",
    "limit",
)
STATES = ", ".join(FulfilmentState)


@dataclass(frozen=True, slots=True)
class Listing:
    account: str | None = None
    amazon_order_id: str | None = None
    state: FulfilmentState | None = None
    created_since: datetime | None = None
    created_until: datetime | None = None
    after: int | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class Page:
    fulfilments: list[Fulfilment]
    next_after: int | None  # None: the last page


def read_listing(params: Mapping[str, str | None]) -> Listing | Rejected:
    """The listing asked by ``params`` (text, as a query string or the CLI's options give
    them), or every parameter refused with its reason."""
    errors: list[FieldError] = []
    account = paging.text("account", params.get("account"), 100, errors)
    order = paging.text("amazon_order_id", params.get("amazon_order_id"), 40, errors)
    state = paging.choice("state", params.get("state"), FulfilmentState, STATES, errors)
    since = paging.moment("created_since", params.get("created_since"), errors)
    until = paging.moment("created_until", params.get("created_until"), errors)
    after = paging.cursor(params.get("after"), errors)
    limit = paging.limit(params.get("limit"), errors)
    if since is not None and until is not None and until <= since:
        errors.append(FieldError("created_until", "must be later than created_since"))
    if errors:
        return Rejected(tuple(errors))
    return Listing(account, order, state, since, until, after, limit)


def page(listing: Listing, views: FulfilmentViews) -> Page | Rejected:
    """One page of the listing; an account the store does not know is refused."""
    account_id = None
    if listing.account is not None:
        account_id = paging.account_id_of(listing.account)
        if account_id is None:
            return Rejected((paging.no_account(listing.account),))
    found = views.list(
        account_id=account_id,
        amazon_order_id=listing.amazon_order_id,
        state=listing.state,
        created_since=listing.created_since,
        created_until=listing.created_until,
        after_id=listing.after,
        limit=listing.limit + 1,
    )
    rows, next_after = paging.cut(found, listing.limit, lambda fulfilment: fulfilment.id)
    return Page(rows, next_after)
