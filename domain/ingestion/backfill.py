"""The backfill through order reports: history imported a report at a time instead of paging
``searchOrders``, stored through the same page writes as the sync (same rows, same events).

``backfill_from_reports`` walks [since, until) per marketplace in windows of at most ``span``
(Amazon's order reports cover up to 30 days each). For each window it asks for a report, keeps
the report's id as the window's resume point (the cursor's pagination token) before waiting
for it, then stores its orders in batches, each batch with the cursor in one transaction; the
window closes (the watermark moves to its end) after its last batch. Killed half way, a rerun
of the same backfill (same account, marketplace and ``since``: its own cursor scope) takes up
the report it asked for, stores its orders again (unchanged rows write nothing, emit nothing)
and goes on; a report Amazon no longer has (``ReportUnavailable``) is asked for again.

Errors: ``ReportFailed`` (Amazon could not make the report) stops the backfill; a rerun asks again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from itertools import islice
from typing import Protocol

from domain.ingestion.cursor import Cursor
from domain.ingestion.ports import FetchedOrder, IngestionStore, OrdersPage
from domain.ingestion.sync import SyncReport, split_page
from domain.shared import Clock, DomainError

REPORT_SPAN = timedelta(days=30)
BATCH = 500


class ReportFailed(DomainError):
    """Amazon ended the report ``FATAL``: it could not be made (ask again later)."""


class ReportUnavailable(DomainError):
    """The report asked for before is gone (Amazon keeps order reports 30 days): ask anew."""


class OrderReports(Protocol):
    def request(self, *, marketplace_id: str, start: datetime, end: datetime) -> str:
        """Ask Amazon for the order report of one marketplace and window; its report id."""
        ...

    def orders(self, report_id: str) -> AbstractContextManager[Iterator[FetchedOrder]]:
        """The report's orders once it is done (waiting for it as long as it takes), one per
        order, translated or carrying the reason; none when Amazon cancelled it (no data)."""
        ...


def report_scope(marketplace_id: str, since: datetime) -> str:
    """A backfill's own cursor: one per marketplace and starting point, apart from the sync's."""
    return f"report:{marketplace_id}:{since.strftime('%Y%m%dT%H%M%SZ')}"


def backfill_from_reports(
    *,
    account_id: int,
    reports: OrderReports,
    store: IngestionStore,
    clock: Clock,
    marketplace_ids: Sequence[str],
    since: datetime,
    until: datetime,
    span: timedelta = REPORT_SPAN,
    batch: int = BATCH,
    on_batch: Callable[[SyncReport, str, datetime], None] | None = None,
) -> SyncReport:
    """Import the orders last updated in [since, until) of each marketplace (module docstring).
    ``on_batch(report, marketplace, window end)`` after each stored batch and closed window."""
    if until <= since:
        raise ValueError("until must be after since")
    report = SyncReport()
    for marketplace_id in marketplace_ids:
        scope = report_scope(marketplace_id, since)

        def heard(end: datetime, m: str = marketplace_id) -> None:
            if on_batch is not None:
                on_batch(report, m, end)

        with store.account_lock(account_id, scope) as locked:
            if not locked:
                report.skipped = True
                return report
            start = store.load_cursor(account_id, scope)
            for window in _windows(start, since, until, span):
                done = _window(reports, store, clock, account_id, scope, marketplace_id, window,
                               batch, report, heard)  # fmt: skip
                store.save_cursor(account_id, scope, done)
                report.watermark = done.watermark
                heard(window.window_before or until)
    return report


def _window(
    reports: OrderReports,
    store: IngestionStore,
    clock: Clock,
    account_id: int,
    scope: str,
    marketplace_id: str,
    cursor: Cursor,
    batch: int,
    report: SyncReport,
    heard: Callable[[datetime], None],
) -> Cursor:
    """One window stored: its report asked for (unless a killed run asked already) and kept as
    the resume point first, its orders stored batch by batch; the cursor with the window closed."""
    assert cursor.window_after is not None and cursor.window_before is not None
    end = cursor.window_before
    while True:
        report_id = cursor.pagination_token
        if report_id is None:
            report_id = reports.request(
                marketplace_id=marketplace_id, start=cursor.window_after, end=end
            )
            cursor = _asked(cursor, report_id)
            store.save_cursor(account_id, scope, cursor)
        try:
            with reports.orders(report_id) as fetched:
                while chunk := list(islice(fetched, batch)):
                    page = OrdersPage(orders=chunk, next_token=None, window_before=None)
                    good, odd = split_page(page, clock.now())
                    report.problems.extend(f"{o.amazon_order_id}: {o.problem}" for o in odd)
                    cursor = cursor.after_page(
                        next_token=report_id, window_before=None, orders=len(chunk)
                    )
                    outcome = store.save_page(account_id, scope, good, odd, cursor)
                    report.add(outcome, len(chunk))
                    heard(end)
        except ReportUnavailable:
            cursor = _asked(cursor, None)
            continue
        return cursor.close_window()


def _asked(cursor: Cursor, report_id: str | None) -> Cursor:
    return Cursor(
        watermark=cursor.watermark,
        window_after=cursor.window_after,
        window_before=cursor.window_before,
        pagination_token=report_id,
        pages_done=cursor.pages_done,
        orders_seen=cursor.orders_seen,
    )


def _windows(cursor: Cursor, since: datetime, until: datetime, span: timedelta) -> Iterator[Cursor]:
    """The cursor at the start of each window still to do: the one a killed run left open
    first (with its report), then from the watermark (or ``since``) on to ``until``."""
    if cursor.in_window and cursor.window_before is not None:
        yield cursor
        start = cursor.window_before
    else:
        start = max(since, cursor.watermark) if cursor.watermark is not None else since
    while start < until:
        end = min(start + span, until)
        yield Cursor(
            watermark=cursor.watermark,
            window_after=start,
            window_before=end,
            pages_done=cursor.pages_done,
            orders_seen=cursor.orders_seen,
        )
        start = end
