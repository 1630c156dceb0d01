"""The listing of refunds or cancellations that HTTP's ``GET /v1/refunds?...`` and the CLI's
``refunds list`` page through: its parameters read as text and refused with the parameter's
name and a reason (an unknown state, a limit out of range, an account the store does not
know), then one page, oldest first, and the cursor of the next.

A page is read one row longer than asked: when that row exists there is a next page, and its
cursor (``next_after``) is the last id shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.refunds import Refund, RefundKind, RefundState, RefundViews
from domain.shared import FieldError, Rejected
from infra.db.accounts import AccountError, get_account
from workers import bootstrap
from workers.doors.limits import ID_RANGE, ascii_id, shown, text_problem

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
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


def _text(name: str, value: str | None, limit: int, errors: list[FieldError]) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    problem = text_problem(value)
    if problem is None and len(value) > limit:
        problem = f"longer than {limit} characters"
    if problem is None and name == "account" and value.isdigit() and ascii_id(value) is None:
        problem = f"an account id is {ID_RANGE}, in the digits 0-9"
    if problem is not None:
        errors.append(FieldError(name, problem))
        return None
    return value


def read_listing(kind: RefundKind | None, params: Mapping[str, str | None]) -> Listing | Rejected:
    """The listing asked by ``params`` (text, as a query string or the CLI's options give
    them), or every parameter refused with its reason."""
    errors: list[FieldError] = []
    account = _text("account", params.get("account"), 100, errors)
    order = _text("amazon_order_id", params.get("amazon_order_id"), 40, errors)
    state = None
    given_state = (params.get("state") or "").strip()
    if given_state:
        if given_state in {s.value for s in RefundState}:
            state = RefundState(given_state)
        else:
            errors.append(FieldError("state", f"{shown(given_state)} is not a state: {STATES}"))
    after = None
    given_after = (params.get("after") or "").strip()
    if given_after:
        after = ascii_id(given_after)
        if after is None:
            errors.append(FieldError("after", f"must be an id from the last page: {ID_RANGE}"))
    limit = DEFAULT_LIMIT
    given_limit = (params.get("limit") or "").strip()
    if given_limit:
        number = ascii_id(given_limit)
        if number is None or number > MAX_LIMIT:
            errors.append(FieldError("limit", f"must be a whole number from 1 to {MAX_LIMIT}"))
        else:
            limit = number
    if errors:
        return Rejected(tuple(errors))
    return Listing(kind, account, order, state, after, limit)


def account_id_of(ref: str) -> int | None:
    """The account's id, by id or by name; None when the store has no such account."""
    try:
        return get_account(bootstrap.container().sessions, ref).id
    except AccountError:
        return None


def page(listing: Listing, views: RefundViews) -> Page | Rejected:
    """One page of the listing; an account the store does not know is refused (a listing of
    nothing would hide the typo)."""
    account_id = None
    if listing.account is not None:
        account_id = account_id_of(listing.account)
        if account_id is None:
            return Rejected((FieldError("account", f"no seller account {shown(listing.account)}"),))
    found = views.list(
        kind=listing.kind,
        account_id=account_id,
        amazon_order_id=listing.amazon_order_id,
        state=listing.state,
        after_id=listing.after,
        limit=listing.limit + 1,
    )
    shown_rows = found[: listing.limit]
    more = len(found) > listing.limit
    return Page(shown_rows, shown_rows[-1].id if more and shown_rows else None)
