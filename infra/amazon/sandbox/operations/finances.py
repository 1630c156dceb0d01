"""Finances v0: ``listFinancialEventGroups``, ``listFinancialEvents``,
``listFinancialEventsByOrderId`` and ``listFinancialEventsByGroupId`` (PascalCase, ``payload``).

Parameters, as the model describes them (a refusal is 400 ``InvalidInput`` naming the
parameter):

- ``MaxResultsPerPage``: 1-100; default 10 for groups, 100 for events.
- ``PostedAfter`` (events at or after it) and ``PostedBefore`` (events before it, default two
  minutes before now): ``PostedAfter`` must be more than two minutes before now, ``PostedBefore``
  later than ``PostedAfter`` and more than two minutes before now, and ``PostedBefore`` needs
  ``PostedAfter``. More than 180 days apart: an empty answer, as the model says. The group
  window ``FinancialEventGroupStartedAfter`` / ``...StartedBefore`` follows the same rules over
  the groups' start. ``listFinancialEvents`` and ``listFinancialEventGroups`` need their "after"
  (or a ``NextToken``), as Amazon's own examples answer a call without one with a 400; by group
  id the window is optional (the whole group).
- ``NextToken``: a token this sandbox issued for the same operation and seller; it carries the
  query, so the other arguments may be left out, and any sent must be the ones it was issued
  for (``MaxResultsPerPage`` may change).
- ``orderId`` must have the 3-7-7 form; an order with no events (or not the caller's) has an
  empty answer. ``eventGroupId`` must be one of the caller's groups.

Events are listed in the order they were posted, groups by their start; ``NextToken`` is given
when more remain.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from infra.amazon.sandbox.errors import invalid
from infra.amazon.sandbox.operations.call import Call
from infra.amazon.sandbox.render_finances import financial_events_json, group_json
from infra.amazon.sandbox.rules.pagination import read_token
from infra.amazon.sandbox.rules.query import ORDER_ID, page_size, query_time
from infra.amazon.sandbox.state import VISIBILITY_LAG, EventGroup, FinancialEvent, parse_iso

MAX_WINDOW = timedelta(days=180)
EVENTS_PAGE = 100
GROUPS_PAGE = 10
POSTED = ("PostedAfter", "PostedBefore")
STARTED = ("FinancialEventGroupStartedAfter", "FinancialEventGroupStartedBefore")

Window = tuple[datetime | None, datetime | None]


def _window(call: Call, names: tuple[str, str], *, required: bool) -> Window:
    """(after, before) by the rules of the module docstring; (None, None): no window."""
    after_name, before_name = names
    after, before = query_time(call.query, after_name), query_time(call.query, before_name)
    latest = call.state.now() - VISIBILITY_LAG
    if after is None:
        if before is not None:
            raise invalid(f"{before_name} can only be used together with {after_name}")
        if required:
            raise invalid(f"{after_name} is required (or a NextToken from an earlier page)")
        return None, None
    if after > latest:
        raise invalid(f"{after_name} must be more than two minutes before the time of the request")
    if before is None:
        return after, latest
    if before > latest:
        raise invalid(f"{before_name} must be more than two minutes before the time of the request")
    if before <= after:
        raise invalid(f"{before_name} must be later than {after_name}")
    return after, before


def _window_json(window: Window) -> list[str | None]:
    return [moment.isoformat() if moment else None for moment in window]


def _window_of(saved: list[str | None]) -> Window:
    after, before = (parse_iso(value) if value else None for value in saved)
    return after, before


def _continued(
    call: Call, token: str, names: tuple[str, str] | None, path: dict[str, str]
) -> tuple[dict[str, Any], Any, int]:
    """(query, position, page size) a NextToken carries; refuses other arguments than its own
    (``names``: the window's parameters, None for an operation without one)."""
    payload = read_token(call.state, call.operation, call.seller_id, token)
    query: dict[str, Any] = payload["q"]
    if names is not None:
        saved = _window_of(query["window"])
        for name, value in zip(names, saved, strict=True):
            sent = query_time(call.query, name)
            if sent is not None and sent != value:
                raise invalid(f"NextToken was issued for another {name}; send the same arguments")
    for name, wanted in path.items():
        if query.get(name) != wanted:
            raise invalid(f"NextToken was issued for another {name}")
    size = page_size(call.query, "MaxResultsPerPage") or int(payload["size"])
    return query, payload["pos"], size


def _too_wide(window: Window) -> bool:
    after, before = window
    return after is not None and before is not None and before - after > MAX_WINDOW


def _in(window: Window, moment: datetime) -> bool:
    after, before = window
    return (after is None or moment >= after) and (before is None or moment < before)


def _events_page(
    call: Call, events: list[FinancialEvent], query: dict[str, Any], position: int, size: int
) -> tuple[int, dict[str, Any]]:
    window = _window_of(query["window"])
    found = [] if _too_wide(window) else [e for e in events if _in(window, e.posted_at)]
    found = sorted((e for e in found if e.sequence > position), key=lambda e: e.sequence)
    page = found[:size]
    payload: dict[str, Any] = {}
    if len(found) > size:
        payload["NextToken"] = call.state.make_pagination_token(
            {
                "op": call.operation,
                "seller": call.seller_id,
                "q": query,
                "pos": page[-1].sequence,
                "size": size,
            }
        )
    payload["FinancialEvents"] = financial_events_json(page)
    return 200, {"payload": payload}


def _events_query(
    call: Call, names: tuple[str, str] | None, *, required: bool, path: dict[str, str]
) -> tuple[dict[str, Any], int, int]:
    """(query, position, page size) of a first call or of a NextToken."""
    token = call.query.get("NextToken")
    if token:
        query, position, size = _continued(call, token, names, path)
        return query, int(position), size
    size = page_size(call.query, "MaxResultsPerPage") or EVENTS_PAGE
    window = _window(call, names, required=required) if names else (None, None)
    return {"window": _window_json(window), **path}, 0, size


def list_financial_events(call: Call) -> tuple[int, dict[str, Any]]:
    query, position, size = _events_query(call, POSTED, required=True, path={})
    with call.state.lock:
        events = call.state.financial_events(call.seller_id)
        return _events_page(call, events, query, position, size)


def list_financial_events_by_order_id(call: Call) -> tuple[int, dict[str, Any]]:
    order_id = call.path_params["orderId"]
    if not ORDER_ID.match(order_id):
        raise invalid(f"Invalid orderId {order_id!r}: expected the 3-7-7 format")
    query, position, size = _events_query(call, None, required=False, path={"orderId": order_id})
    with call.state.lock:
        events = [e for e in call.state.financial_events(call.seller_id) if e.order_id == order_id]
        return _events_page(call, events, query, position, size)


def list_financial_events_by_group_id(call: Call) -> tuple[int, dict[str, Any]]:
    group_id = call.path_params["eventGroupId"]
    path = {"eventGroupId": group_id}
    with call.state.lock:
        group = next(
            (g for g in call.state.event_groups(call.seller_id) if g.group_id == group_id), None
        )
        if group is None:
            raise invalid(
                f"Invalid eventGroupId {group_id!r}: no financial event group of this seller "
                "has that id"
            )
        query, position, size = _events_query(call, POSTED, required=False, path=path)
        return _events_page(call, list(group.events), query, position, size)


def _group_key(group: EventGroup) -> list[str]:
    return [group.start.isoformat(), group.group_id]


def list_financial_event_groups(call: Call) -> tuple[int, dict[str, Any]]:
    token = call.query.get("NextToken")
    position: list[str] | None = None
    if token:
        query, saved, size = _continued(call, token, STARTED, {})
        position = [str(part) for part in saved]
    else:
        size = page_size(call.query, "MaxResultsPerPage") or GROUPS_PAGE
        query = {"window": _window_json(_window(call, STARTED, required=True))}
    window = _window_of(query["window"])
    with call.state.lock:
        groups = [] if _too_wide(window) else call.state.event_groups(call.seller_id)
        found = sorted((g for g in groups if _in(window, g.start)), key=_group_key)
        if position is not None:
            found = [g for g in found if _group_key(g) > position]
        page = found[:size]
        payload: dict[str, Any] = {}
        if len(found) > size:
            payload["NextToken"] = call.state.make_pagination_token(
                {
                    "op": call.operation,
                    "seller": call.seller_id,
                    "q": query,
                    "pos": _group_key(page[-1]),
                    "size": size,
                }
            )
        payload["FinancialEventGroupList"] = [group_json(g) for g in page]
    return 200, {"payload": payload}
