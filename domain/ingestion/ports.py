"""What a sync needs from outside: Amazon's orders (``OrdersSource``) and the store
(``IngestionStore``), with the values that cross them."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.ingestion.cursor import Cursor
from domain.orders import AmazonOrder
from domain.shared import DomainError


class PaginationExpired(DomainError):
    """Amazon no longer accepts the stored pagination token (they live 24 hours)."""


@dataclass(frozen=True, slots=True)
class FetchedOrder:
    """One order as it came from Amazon: translated, or with the reason it could not be."""

    amazon_order_id: str
    raw: dict[str, Any]
    order: AmazonOrder | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class OrdersPage:
    orders: list[FetchedOrder]
    next_token: str | None
    # The window's end in Amazon's clock (the ``lastUpdatedBefore`` it applied).
    window_before: datetime | None


class OrdersSource(Protocol):
    def search_updated(self, *, after: datetime, pagination_token: str | None) -> OrdersPage: ...


@dataclass(frozen=True, slots=True)
class PageOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    set_aside: int = 0


class IngestionStore(Protocol):
    def account_lock(self, account_id: int, scope: str) -> AbstractContextManager[bool]:
        """Hold the account's sync lock for the block; yields False when another sync has it."""
        ...

    def load_cursor(self, account_id: int, scope: str) -> Cursor: ...

    def save_page(
        self,
        account_id: int,
        scope: str,
        orders: list[AmazonOrder],
        set_aside: list[FetchedOrder],
        cursor: Cursor,
    ) -> PageOutcome:
        """Upsert the orders, set aside the rest, write events and the cursor: one transaction."""
        ...

    def save_cursor(self, account_id: int, scope: str, cursor: Cursor) -> None: ...
