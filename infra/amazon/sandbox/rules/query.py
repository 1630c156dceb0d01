"""How SP-API reads query parameters: lists, enums, times, page sizes, ``includedData``.

Array parameters come comma-separated, repeated, or both; a value outside an enum, a time that
is not ISO 8601 or a page size out of range is a 400 ``InvalidInput`` naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from starlette.datastructures import QueryParams

from infra.amazon.sandbox.errors import invalid
from infra.amazon.sandbox.rules.included import INCLUDED_DATA
from infra.amazon.sandbox.state import parse_iso

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
MAX_PAGE = 100
MAX_LIST = 50


def listed(query: QueryParams, name: str) -> list[str]:
    """An array parameter, sent comma-separated, repeated, or both."""
    values: list[str] = []
    for raw in query.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def enum_list(query: QueryParams, name: str, allowed: Iterable[str]) -> list[str]:
    values = listed(query, name)
    allowed_set = set(allowed)
    bad = [v for v in values if v not in allowed_set]
    if bad:
        raise invalid(f"Invalid value(s) for {name}: {', '.join(bad)}")
    return values


def query_time(query: QueryParams, name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_iso(raw)
    except ValueError as exc:
        raise invalid(f"{name} is not a valid ISO 8601 date-time: {raw!r}") from exc


def page_size(query: QueryParams, name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        size = int(raw)
    except ValueError as exc:
        raise invalid(f"{name} must be an integer between 1 and {MAX_PAGE}") from exc
    if not 1 <= size <= MAX_PAGE:
        raise invalid(f"{name} must be an integer between 1 and {MAX_PAGE}")
    return size


def included(query: QueryParams) -> list[str] | None:
    """``includedData`` as sent, or None when it was not sent at all."""
    if "includedData" not in query:
        return None
    return enum_list(query, "includedData", INCLUDED_DATA)
