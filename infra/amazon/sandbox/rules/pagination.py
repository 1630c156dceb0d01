"""Amazon's paging of order searches (and of the newest-first listings, ``getFeeds`` and
``getReports``: ``newest_first_page``): a stable order, and tokens that carry the whole query.

A pagination token carries the query, the last position, the operation and the seller, so later
pages need nothing else and see the same window; a token of another operation or seller, forged
or a day old, is a 400. The caller holds ``state.lock`` while a page is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from infra.amazon.sandbox.errors import SandboxError, invalid
from infra.amazon.sandbox.state import SandboxOrder, SandboxState, iso, parse_iso


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """A search's filters and window; serialized into pagination tokens."""

    by: str  # "created" or "updated"
    after: str
    before: str
    statuses: tuple[str, ...] = ()  # v2026-01-01 values
    marketplace_ids: tuple[str, ...] = ()
    fulfilled_by: tuple[str, ...] = ()
    order_ids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderQuery:
        return cls(
            by=str(data["by"]),
            after=str(data["after"]),
            before=str(data["before"]),
            statuses=tuple(data.get("statuses", ())),
            marketplace_ids=tuple(data.get("marketplace_ids", ())),
            fulfilled_by=tuple(data.get("fulfilled_by", ())),
            order_ids=tuple(data.get("order_ids", ())),
        )

    def matcher(self) -> Callable[[SandboxOrder], bool]:
        """A predicate for this query (the window parsed once, not per order)."""
        after, before = parse_iso(self.after), parse_iso(self.before)

        def match(order: SandboxOrder) -> bool:
            moment = order.created_at if self.by == "created" else order.updated_at
            return (
                after <= moment <= before
                and (not self.statuses or order.status in self.statuses)
                and (not self.marketplace_ids or order.marketplace_id in self.marketplace_ids)
                and (not self.fulfilled_by or order.fulfilled_by in self.fulfilled_by)
                and (not self.order_ids or order.order_id in self.order_ids)
            )

        return match

    def sort_key(self, order: SandboxOrder) -> tuple[datetime, str]:
        return (order.created_at if self.by == "created" else order.updated_at, order.order_id)


def page(
    state: SandboxState,
    seller_id: str,
    query: OrderQuery,
    position: list[str] | None,
    size: int,
) -> tuple[list[SandboxOrder], list[str] | None]:
    """One page of the seller's matching orders, in a stable order, and the next position."""
    match = query.matcher()
    found = sorted((o for o in state.orders_of(seller_id) if match(o)), key=query.sort_key)
    if position is not None:
        mark = (parse_iso(position[0]), position[1])
        found = [o for o in found if query.sort_key(o) > mark]
    chosen = found[:size]
    if len(found) <= size:
        return chosen, None
    last = query.sort_key(chosen[-1])
    return chosen, [last[0].isoformat(), last[1]]


def read_token(state: SandboxState, operation: str, seller_id: str, token: str) -> dict[str, Any]:
    """The payload of a token this sandbox issued for this operation and seller."""
    try:
        payload = state.read_pagination_token(token)
    except SandboxError as exc:
        raise invalid(exc.message) from exc
    if payload.get("op") != operation or payload.get("seller") != seller_id:
        raise invalid("Invalid pagination token")
    return payload


def make_token(
    state: SandboxState,
    operation: str,
    seller_id: str,
    query: OrderQuery,
    position: list[str],
    extra: dict[str, Any],
) -> str:
    payload = {"op": operation, "seller": seller_id, "q": query.to_json()}
    payload.update(pos=position, **extra)
    return state.make_pagination_token(payload)


def before_field(query: OrderQuery, created: str, updated: str) -> dict[str, str]:
    """The "before" the search applied, under the name of the window it searched."""
    return {created if query.by == "created" else updated: iso(parse_iso(query.before))}


Listed = TypeVar("Listed")


def newest_first_page(
    state: SandboxState,
    operation: str,
    seller_id: str,
    wanted: dict[str, Any],
    position: list[str] | None,
    found: list[Listed],
    *,
    created_at: Callable[[Listed], datetime],
    id_of: Callable[[Listed], str],
    render: Callable[[Listed], dict[str, Any]],
    key: str,
) -> dict[str, Any]:
    """One page of a listing Amazon serves newest first (by creation, then by its numeric id),
    after the ``position`` a token carried; a ``nextToken`` (the query, and this page's last
    position) when more remain. ``wanted["size"]`` is the page size."""

    def order_of(item: Listed) -> tuple[datetime, int]:
        return created_at(item), int(id_of(item))

    found = sorted(found, key=order_of, reverse=True)
    if position is not None:
        mark = (parse_iso(position[0]), int(position[1]))
        found = [item for item in found if order_of(item) < mark]
    size = int(wanted["size"])
    page = found[:size]
    body: dict[str, Any] = {key: [render(item) for item in page]}
    if len(found) > size:
        last = page[-1]
        body["nextToken"] = state.make_pagination_token(
            {
                "op": operation,
                "seller": seller_id,
                "q": wanted,
                "pos": [created_at(last).isoformat(), id_of(last)],
            }
        )
    return body
