"""The IngestionStore port's fake: orders in memory with the SQL store's rules (only a newer
copy that differs is written, and each write appends its event)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from domain.ingestion import Cursor, FetchedOrder, PageOutcome
from domain.orders import AmazonOrder
from domain.orders.events import OrderEvent, order_event
from infra.platform.payloads import topic


@dataclass
class FakeStore:
    """An in-memory IngestionStore with the same rules as the SQL one."""

    orders: dict[str, AmazonOrder] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)
    cursors: dict[tuple[int, str], Cursor] = field(default_factory=dict)
    # (topic, amazon order id) of every event, and the events themselves, in order.
    events: list[tuple[str, str]] = field(default_factory=list)
    outbox: list[OrderEvent] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
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
            version = self.versions.get(order.amazon_order_id, 0) + 1
            self.versions[order.amazon_order_id] = version
            event = order_event(account_id, stored.status if stored else None, order, version)
            self.outbox.append(event)
            self.events.append((topic(event), order.amazon_order_id))
            self.orders[order.amazon_order_id] = order
            if stored is None:
                created += 1
            else:
                updated += 1
        for odd in set_aside:
            self.set_aside[odd.amazon_order_id] = odd.problem or "unreadable"
        self.cursors[(account_id, scope)] = cursor
        return PageOutcome(created, updated, unchanged, len(set_aside))
