"""What the store can hold, checked at every door before anything reaches it: text PostgreSQL
accepts, ids and counts within their columns, times ``datetime`` can convert, JSON of a bounded
depth, and a bounded list of refusals. A value past these limits is refused with a reason, so a
hostile client gets a 4xx and never a server error, and nothing it sends makes an answer grow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from domain.fulfilments import FieldError
from domain.shared import BIGINT_MAX, row_id

# What jsonb holds is the store's knowledge; the doors quote, cut and copy values with it.
from infra.db.jsonb import DEPTH_REASON, MAX_DEPTH, SHOWN, shown, storable

__all__ = [
    "BIGINT_MAX",
    "DEPTH_REASON",
    "EARLIEST",
    "ID_RANGE",
    "INT4_MAX",
    "LATEST",
    "MAX_DEPTH",
    "MAX_ERRORS",
    "MAX_ITEMS",
    "SHOWN",
    "WINDOW",
    "ascii_id",
    "capped",
    "in_window",
    "printable",
    "shown",
    "storable",
    "text_problem",
    "too_deep",
]

INT4_MAX = 2**31 - 1  # quantities' column type (PostgreSQL integer)
MAX_ERRORS = 50  # refusals listed in one answer; the rest are counted
MAX_ITEMS = 100  # items of a list of objects in a request (the lines of one package)
# A time outside this window is no time the channel deals in (and its UTC value always exists).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
WINDOW = f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NUL = re.compile(r"\x00")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, *, free_text: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text, or None. PostgreSQL refuses NUL and lone UTF-16
    surrogates (they are not Unicode text at all); a human-readable field (``free_text`` False)
    refuses every other control character too (a tab, a newline, an escape)."""
    surrogate = _SURROGATE.search(value)
    if surrogate:
        return f"is not valid Unicode text (a lone surrogate at character {surrogate.start() + 1})"
    found = (_NUL if free_text else _CONTROL).search(value)
    if found:
        code = f"U+{ord(found.group()):04X}"
        return f"must not contain control characters ({code} at character {found.start() + 1})"
    return None


def ascii_id(value: str) -> int | None:
    """``value`` as an id (1 .. bigint), or None. Only ASCII digits: ``"²".isdigit()`` is true
    but it is no number ``int()`` reads, and no id (``domain.shared.row_id``)."""
    return row_id(value)


ID_RANGE = f"a whole number from 1 to {BIGINT_MAX}"


def in_window(utc: datetime) -> bool:
    """Whether a time (``domain.shared.parse_utc`` read it, so its UTC value exists) lies in the
    window of times the channel deals in."""
    return EARLIEST <= utc < LATEST


def printable(name: str) -> str:
    """A field's name as sent, fit to be echoed: control characters and surrogates escaped,
    cut to a few dozen characters."""
    escaped = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", name[: SHOWN * 2])
    if len(escaped) > SHOWN or len(name) > SHOWN * 2:
        return escaped[:SHOWN] + "..."
    return escaped


def too_deep(data: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``data`` nests lists and objects deeper than ``limit``. Iterative, and it
    stops at the first container past the limit."""
    if not isinstance(data, Mapping | list | tuple):
        return False
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, Mapping) else node
        for child in children:
            if isinstance(child, Mapping | list | tuple):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def capped(errors: Sequence[FieldError], also: int = 0) -> tuple[FieldError, ...]:
    """The first ``MAX_ERRORS`` refusals, and a last entry (field ``errors``) counting those
    left out (``also`` more were counted without being listed)."""
    if len(errors) == MAX_ERRORS + 1 and not also and _counts_more(errors[-1]):
        return tuple(errors)  # capped already
    more = max(0, len(errors) - MAX_ERRORS) + also
    if not more:
        return tuple(errors)
    return (*errors[:MAX_ERRORS], FieldError("errors", f"{more} {_MORE}"))


_MORE = f"more not listed (an answer lists the first {MAX_ERRORS})"


def _counts_more(error: FieldError) -> bool:
    return error.field == "errors" and error.reason.endswith(_MORE)
