"""The OrdersSource port's fake: a fixed list of orders served in pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.ingestion import FetchedOrder, OrdersPage, PaginationExpired
from tests.fakes.clock import T0


@dataclass
class FakeSource:
    """Serves a fixed list of orders in pages; can fail once at a page, or expire a token."""

    orders: list[FetchedOrder]
    page_size: int = 2
    window_before: datetime = T0 - timedelta(minutes=2)
    fail_at_page: int | None = None
    expire_token_once: bool = False
    calls: list[tuple[datetime, str | None]] = field(default_factory=list)

    def search_updated(self, *, after: datetime, pagination_token: str | None) -> OrdersPage:
        self.calls.append((after, pagination_token))
        if pagination_token is not None and self.expire_token_once:
            self.expire_token_once = False
            raise PaginationExpired("token expired")
        start = int(pagination_token or 0)
        if self.fail_at_page is not None and start // self.page_size == self.fail_at_page:
            self.fail_at_page = None
            raise ConnectionError("the network went away")
        chunk = self.orders[start : start + self.page_size]
        end = start + self.page_size
        return OrdersPage(
            orders=chunk,
            next_token=str(end) if end < len(self.orders) else None,
            window_before=self.window_before,
        )
