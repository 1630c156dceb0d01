"""The lag benchmark's arithmetic: each order change matched to the webhook that delivered it,
the percentiles, the missing count, the targets and the side-by-side table (no I/O here).

A change is (order id, the status the order has after it, when it was made). It is delivered by
the first ``orders/*`` webhook for that order, arriving after the change, whose order has that
status: a new order's ``orders/created``, a status change's ``orders/updated``. A change with
no such webhook by the end of the run is missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The targets: with notifications a change reaches the platform in seconds; by polling alone
# within Amazon's two hidden minutes plus one searchOrders refill; never lost either way.
TARGET_P95_S = {"notifications": 15.0, "polling": 300.0}


@dataclass(frozen=True, slots=True)
class Change:
    order_id: str
    status: str
    at: float  # epoch seconds, taken just before the sandbox was asked


@dataclass(frozen=True, slots=True)
class Arrival:
    order_id: str
    topic: str
    status: str
    at: float  # epoch seconds, when the receiver read the request


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q``-th percentile (0 < q <= 100): the smallest value at least ``q`` %
    of the values are at or below. None for no values."""
    if not values:
        return None
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is not in (0, 100]")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def lags(changes: Iterable[Change], arrivals: Iterable[Arrival]) -> tuple[list[float], int]:
    """Seconds from each change to the webhook that delivered it, and how many were missing."""
    by_order: dict[str, list[Arrival]] = {}
    for arrival in sorted(arrivals, key=lambda a: a.at):
        by_order.setdefault(arrival.order_id, []).append(arrival)
    found: list[float] = []
    missing = 0
    for change in changes:
        match = next(
            (
                a
                for a in by_order.get(change.order_id, [])
                if a.at >= change.at and a.status == change.status
            ),
            None,
        )
        if match is None:
            missing += 1
        else:
            found.append(match.at - change.at)
    return found, missing


def summary(
    mode: str, changes: Sequence[Change], arrivals: Sequence[Arrival]
) -> dict[str, float | int | bool | None]:
    """One run's numbers; ``met``: p95 under the mode's target and nothing missing."""
    found, missing = lags(changes, arrivals)
    p95 = percentile(found, 95)
    target = TARGET_P95_S[mode]
    return {
        "changes": len(changes),
        "delivered": len(found),
        "missing": missing,
        "p50_s": _round(percentile(found, 50)),
        "p95_s": _round(p95),
        "p99_s": _round(percentile(found, 99)),
        "max_s": _round(max(found) if found else None),
        "target_p95_s": target,
        "met": p95 is not None and p95 < target and missing == 0,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def table(rows: Sequence[tuple[str, dict[str, dict[str, float | int | bool | None]]]]) -> list[str]:
    """Lines: one per scenario, with notifications and polling only side by side."""

    def cell(numbers: dict[str, float | int | bool | None] | None) -> str:
        if numbers is None:
            return "-"
        shown = "/".join(_seconds(numbers[k]) for k in ("p50_s", "p95_s", "p99_s"))
        return f"{shown} ({numbers['missing']}/{numbers['changes']} missing)"

    head = ("", "with notifications", "polling only")
    body = [(name, cell(modes.get("notifications")), cell(modes.get("polling")))
            for name, modes in rows]  # fmt: skip
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in (head, *body)]  # fmt: skip
    lines.append(
        f"p50/p95/p99 from the change in the sandbox to the webhook at the platform; targets:"
        f" p95 under {TARGET_P95_S['notifications']:g} s with notifications, under"
        f" {TARGET_P95_S['polling']:g} s polling only, none missing"
    )
    return lines


def _seconds(value: float | int | bool | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}s" if value < 100 else f"{value:.0f}s"
