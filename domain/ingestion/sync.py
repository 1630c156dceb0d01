"""The sync use case: bring every Amazon order updated since the watermark into the store, once.

The use case ``sync_orders`` walks one window of Amazon's ``searchOrders`` (``lastUpdatedAfter``
= watermark - overlap, "before" chosen by Amazon's clock), committing each page with its resume
point in one transaction. The watermark moves to the window's end only after the last page is
committed, so a sync killed half way resumes from its last page and loses nothing; upserts make
the pages it repeats harmless. Two syncs of one account and scope never run at once (the store's
lock); a second one returns at once.

Errors: ``PaginationExpired`` (from the source) restarts the window from its start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.ingestion.cursor import Cursor
from domain.ingestion.ports import (
    FetchedOrder,
    IngestionStore,
    OrdersPage,
    OrdersSource,
    PageOutcome,
    PaginationExpired,
)
from domain.orders import AmazonOrder, OrderProblem, check_order
from domain.shared import Clock


@dataclass
class SyncReport:
    skipped: bool = False
    pages: int = 0
    orders: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    set_aside: int = 0
    watermark: datetime | None = None
    window_after: datetime | None = None  # where the window this run closed began
    problems: list[str] = field(default_factory=list)

    def add(self, outcome: PageOutcome, fetched: int) -> None:
        self.pages += 1
        self.orders += fetched
        self.created += outcome.created
        self.updated += outcome.updated
        self.unchanged += outcome.unchanged
        self.set_aside += outcome.set_aside


def split_page(page: OrdersPage, now: datetime) -> tuple[list[AmazonOrder], list[FetchedOrder]]:
    """Orders fit to store, and the ones set aside with their reason."""
    good: list[AmazonOrder] = []
    odd: list[FetchedOrder] = []
    for fetched in page.orders:
        if fetched.order is None:
            odd.append(fetched)
            continue
        try:
            check_order(fetched.order, now)
        except OrderProblem as problem:
            odd.append(replace(fetched, problem=str(problem)))
            continue
        good.append(fetched.order)
    return good, odd


def sync_orders(
    *,
    account_id: int,
    source: OrdersSource,
    store: IngestionStore,
    clock: Clock,
    scope: str = "orders",
    overlap: timedelta = timedelta(minutes=5),
    start: datetime | None = None,
    on_page: Callable[[SyncReport, Cursor], None] | None = None,
    fit_overlap: Callable[[datetime], timedelta] | None = None,
) -> SyncReport:
    """Sync one window; ``start`` sets where a first sync (or a backfill) begins;
    ``fit_overlap`` (given the watermark) says how far this window reaches back, in place of
    ``overlap`` (``domain.ingestion.overlap``)."""
    report = SyncReport()
    with store.account_lock(account_id, scope) as locked:
        if not locked:
            report.skipped = True
            return report
        cursor = store.load_cursor(account_id, scope)
        if not cursor.in_window:
            if cursor.watermark is not None:
                reach = overlap if fit_overlap is None else fit_overlap(cursor.watermark)
                after = cursor.watermark - reach
            else:
                after = start if start is not None else clock.now() - timedelta(days=1)
            cursor = cursor.begin_window(after)
        for page, next_cursor in _pages(source, store, account_id, scope, cursor):
            good, odd = split_page(page, clock.now())
            report.problems.extend(f"{o.amazon_order_id}: {o.problem}" for o in odd)
            last = page.next_token is None
            if last:
                report.window_after = next_cursor.window_after
            saved = next_cursor.close_window() if last else next_cursor
            report.add(store.save_page(account_id, scope, good, odd, saved), len(page.orders))
            report.watermark = saved.watermark
            if on_page is not None:
                on_page(report, saved)
    return report


def _pages(
    source: OrdersSource, store: IngestionStore, account_id: int, scope: str, cursor: Cursor
) -> Iterator[tuple[OrdersPage, Cursor]]:
    """Each page with the cursor that follows it; an expired token restarts the window."""
    assert cursor.window_after is not None
    while True:
        try:
            page = source.search_updated(
                after=cursor.window_after, pagination_token=cursor.pagination_token
            )
        except PaginationExpired:
            cursor = cursor.begin_window(cursor.window_after)
            store.save_cursor(account_id, scope, cursor)
            continue
        cursor = cursor.after_page(
            next_token=page.next_token, window_before=page.window_before, orders=len(page.orders)
        )
        yield page, cursor
        if page.next_token is None:
            return
