"""``domain.ingestion.OrdersSource`` over SP-API: one ``searchOrders`` page at a time.

The page's orders are translated one by one (``translate.fetched``) so an odd order is set aside
instead of failing the page. The window's end is the ``lastUpdatedBefore`` Amazon applied: we
never send our own clock's "before", so clock skew between us and Amazon cannot open a gap.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, Protocol

from domain.ingestion import OrdersPage, PaginationExpired
from infra.amazon.errors import InvalidInput
from infra.amazon.translate import TranslationError, fetched, parse_time

# Everything the store keeps, and nothing that carries buyer PII (no BUYER / RECIPIENT).
INCLUDED_DATA = ("PROCEEDS", "CANCELLATION", "FULFILLMENT", "PACKAGES")


class SearchesOrders(Protocol):
    def search_orders_raw(
        self,
        *,
        last_updated_after: datetime | None,
        pagination_token: str | None,
        included_data: tuple[str, ...],
        max_results: int,
    ) -> dict[str, Any]: ...


class SpApiOrdersSource:
    """Fetches the next page while the caller stores the current one (``prefetch``): Amazon's
    answer time and our write time overlap instead of adding up. Use it as a context manager so
    the fetching thread ends with the sync."""

    def __init__(self, client: SearchesOrders, page_size: int = 100, prefetch: bool = True) -> None:
        self.client = client
        self.page_size = page_size
        self._executor = ThreadPoolExecutor(max_workers=1) if prefetch else None
        self._ahead: tuple[tuple[datetime, str], Future[OrdersPage]] | None = None

    def __enter__(self) -> SpApiOrdersSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def search_updated(self, *, after: datetime, pagination_token: str | None) -> OrdersPage:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == (after, pagination_token):
            page = ahead[1].result()  # a fetch error surfaces here, for the page it belongs to
        else:
            page = self._fetch(after, pagination_token)
        if page.next_token and self._executor is not None:
            future = self._executor.submit(self._fetch, after, page.next_token)
            self._ahead = ((after, page.next_token), future)
        return page

    def _fetch(self, after: datetime, pagination_token: str | None) -> OrdersPage:
        try:
            body = self.client.search_orders_raw(
                last_updated_after=after,  # Amazon wants the same filters on every page
                pagination_token=pagination_token,
                included_data=INCLUDED_DATA,
                max_results=self.page_size,
            )
        except InvalidInput as exc:
            if pagination_token and "token" in (exc.message or "").lower():
                raise PaginationExpired(str(exc)) from exc
            raise
        before_raw = body.get("lastUpdatedBefore")
        try:
            before = parse_time(before_raw, "lastUpdatedBefore") if before_raw else None
        except TranslationError:
            before = None
        orders = body.get("orders") or []
        next_token = (body.get("pagination") or {}).get("nextToken")
        return OrdersPage(
            orders=[fetched(raw) for raw in orders],
            next_token=next_token or None,
            window_before=before,
        )
