"""Fakes of the domain's ports, written once and shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.ingestion import Cursor, FetchedOrder, OrdersPage, PageOutcome, PaginationExpired
from domain.orders import AmazonOrder, FulfilledBy, OrderLine, OrderStatus, event_topic
from domain.shared import Money

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass
class FixedClock:
    at: datetime = T0

    def now(self) -> datetime:
        return self.at


def make_order(n: int, **changes: object) -> AmazonOrder:
    order = AmazonOrder(
        amazon_order_id=f"113-{n:07d}-0000001",
        marketplace_id="ATVPDKIKX0DER",
        status=OrderStatus.UNSHIPPED,
        fulfilled_by=FulfilledBy.MERCHANT,
        purchased_at=T0 - timedelta(hours=2),
        last_updated_at=T0 - timedelta(hours=1),
        lines=(
            OrderLine(
                order_item_id=f"{n:014d}",
                quantity_ordered=2,
                quantity_shipped=0,
                sku=f"SKU-{n}",
                unit_price=Money(Decimal("9.99"), "USD"),
            ),
        ),
        total=Money(Decimal("19.98"), "USD"),
    )
    return replace(order, **changes)  # type: ignore[arg-type]


def fetched(order: AmazonOrder) -> FetchedOrder:
    return FetchedOrder(amazon_order_id=order.amazon_order_id, raw={}, order=order)


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


@dataclass
class FakeStore:
    """An in-memory IngestionStore with the same rules as the SQL one."""

    orders: dict[str, AmazonOrder] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)
    cursors: dict[tuple[int, str], Cursor] = field(default_factory=dict)
    events: list[tuple[str, str]] = field(default_factory=list)
    locked: set[tuple[int, str]] = field(default_factory=set)

    @contextmanager
    def account_lock(self, account_id: int, scope: str) -> Iterator[bool]:
        key = (account_id, scope)
        if key in self.locked:
            yield False
            return
        self.locked.add(key)
        try:
            yield True
        finally:
            self.locked.discard(key)

    def load_cursor(self, account_id: int, scope: str) -> Cursor:
        return self.cursors.get((account_id, scope), Cursor())

    def save_cursor(self, account_id: int, scope: str, cursor: Cursor) -> None:
        self.cursors[(account_id, scope)] = cursor

    def save_page(
        self,
        account_id: int,
        scope: str,
        orders: list[AmazonOrder],
        set_aside: list[FetchedOrder],
        cursor: Cursor,
    ) -> PageOutcome:
        created = updated = unchanged = 0
        for order in orders:
            stored = self.orders.get(order.amazon_order_id)
            if stored is not None and (
                order.last_updated_at < stored.last_updated_at
                or order.content_hash() == stored.content_hash()
            ):
                unchanged += 1
                continue
            topic = event_topic(stored.status if stored else None, order)
            self.events.append((topic.value, order.amazon_order_id))
            self.orders[order.amazon_order_id] = order
            if stored is None:
                created += 1
            else:
                updated += 1
        for odd in set_aside:
            self.set_aside[odd.amazon_order_id] = odd.problem or "unreadable"
        self.cursors[(account_id, scope)] = cursor
        return PageOutcome(created, updated, unchanged, len(set_aside))
