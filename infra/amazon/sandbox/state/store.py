"""Everything the sandbox remembers, in memory, behind one lock: ``SandboxState``.

The sandbox plays Amazon for tests and demos, so its state is what Amazon would hold for us:
sellers and their Login-with-Amazon credentials, access tokens, orders, one token bucket per
(seller, operation), plus what only a test harness wants: queued faults, a log of calls and a
clock that can be moved forward. The HTTP layer reads and changes it only through
``SandboxState`` and only while holding ``SandboxState.lock`` (an ``RLock``: uvicorn serves
requests on one event loop, but the demo generator and tests touch the state from other
threads). Each area keeps its own part (``auth``, ``buckets``, ``faults``, ``calls``,
``tokens``, ``finances``); this class holds them together under the lock and the clock.

The Notifications API's destinations and subscriptions are ``notifications``; every order change,
finished feed and finished report is told to ``notifier``: the delivery
(``infra.amazon.sandbox.delivery``) once the server installs it, which sends what Amazon would
to the subscribed queues, off the request thread.

What survives a restart is ``snapshot``/``restore``'s business (``saved``); when to save is the
keeper's (``infra.amazon.sandbox.keeper``), told by ``changes``, a counter the HTTP layer and
the demo generator move after every change (``mark_changed``).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.state.auth import Credentials
from infra.amazon.sandbox.state.buckets import RateMeter, TokenBucket
from infra.amazon.sandbox.state.calls import CallLog, CallRecord
from infra.amazon.sandbox.state.clock import SandboxClock, iso, whole_seconds
from infra.amazon.sandbox.state.faults import Fault, FaultQueue
from infra.amazon.sandbox.state.finances import EventGroup, FinancialEvent, Ledger
from infra.amazon.sandbox.state.notifications import ChangeListener, NotificationBook, Unheard
from infra.amazon.sandbox.state.orders import apply_status, deep_merge
from infra.amazon.sandbox.state.records import (
    DEMO_SELLER,
    FULFILLMENT_STATUSES,
    SandboxAdjustment,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxItem,
    SandboxOrder,
    SellerAccount,
)
from infra.amazon.sandbox.state.reports import ReportBook
from infra.amazon.sandbox.state.saved import SavedState
from infra.amazon.sandbox.state.tokens import PaginationSigner

FIRST_FEED_ID = 50_001_000_000  # Amazon's feed ids are long numbers, unique per seller


class SandboxState:
    """All of the sandbox's memory. Callers hold ``lock`` around anything that reads orders."""

    def __init__(
        self,
        rate_factor: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        self._meter = RateMeter(rate_factor)
        self.lock = threading.RLock()
        self._monotonic = monotonic
        self.rng = random.Random(seed)  # ids and generated content; not security relevant
        self._clock = SandboxClock()
        self._credentials = Credentials()
        self._faults = FaultQueue()
        self._calls = CallLog()
        self._pagination = PaginationSigner()
        self.orders: dict[str, SandboxOrder] = {}
        self.feed_documents: dict[str, SandboxFeedDocument] = {}
        self.feeds: dict[str, SandboxFeed] = {}
        self.gzip_feed_results = False  # processing reports stored (and served) gzipped
        # Sandbox seconds a new feed takes to finish (``feeds.processing``); None: the steps.
        self.feed_processing_seconds: float | None = None
        self.finances = Ledger()
        self.reports = ReportBook()  # settlement reports and their settings (``reports``)
        self.notifications = NotificationBook()  # destinations and subscriptions
        self.notifier: ChangeListener = Unheard()  # the server installs the delivery
        # Moved after every change (``mark_changed``); the keeper saves when it has moved.
        self.changes = 0
        self.saved_changes = 0
        self.state_file: str | None = None  # where the keeper saves it; None: memory only
        self.add_seller(DEMO_SELLER)

    @property
    def rate_factor(self) -> float:
        return self._meter.rate_factor

    # What each area holds, for tests that look inside.

    @property
    def sellers(self) -> dict[str, SellerAccount]:
        return self._credentials.sellers

    @property
    def access_tokens(self) -> dict[str, tuple[str, datetime]]:
        return self._credentials.access_tokens

    @property
    def buckets(self) -> dict[tuple[str, str], TokenBucket]:
        return self._meter.buckets

    @property
    def faults(self) -> list[Fault]:
        return self._faults.faults

    @property
    def calls(self) -> deque[CallRecord]:
        return self._calls.calls

    # -- clock ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's "Amazon time": real UTC plus the offset tests advanced."""
        return self._clock.now()

    def advance_clock(self, seconds: float) -> datetime:
        with self.lock:
            return self._clock.advance(seconds)

    @property
    def clock_offset(self) -> timedelta:
        return self._clock.offset

    # -- sellers and Login with Amazon ---------------------------------------------------------

    def add_seller(self, seller: SellerAccount) -> None:
        with self.lock:
            self._credentials.add_seller(seller)

    def seller(self, seller_id: str) -> SellerAccount:
        return self._credentials.seller(seller_id)

    def issue_access_token(
        self, refresh_token: str, client_id: str, client_secret: str
    ) -> tuple[str, int]:
        """An LWA ``refresh_token`` grant: a new access token and its lifetime in seconds."""
        with self.lock:
            return self._credentials.issue_access_token(
                refresh_token, client_id, client_secret, self.now()
            )

    def issue_grantless_token(
        self, client_id: str, client_secret: str, scope: str
    ) -> tuple[str, int]:
        """An LWA ``client_credentials`` grant: a token for the application of ``client_id``."""
        with self.lock:
            return self._credentials.issue_grantless_token(
                client_id, client_secret, scope, self.now()
            )

    def application_for_grantless_token(self, token: str | None, scope: str) -> str | None:
        """The client id a grantless token of ``scope`` speaks for, or None (then 403)."""
        with self.lock:
            return self._credentials.application_for_grantless_token(token, scope, self.now())

    def seller_for_access_token(self, token: str | None) -> str | None:
        """The seller an unexpired access token speaks for, or None (Amazon then says 403)."""
        if not token:
            return None
        with self.lock:
            return self._credentials.seller_for_access_token(token, self.now())

    # -- rate limits ---------------------------------------------------------------------------

    def take_token(self, seller_id: str, operation: str) -> bool:
        """Spend one call of the seller's bucket for ``operation``; False means 429."""
        if self.rate_factor == 0:
            return True
        with self.lock:
            return self._meter.take(seller_id, operation, self._monotonic())

    def rate_limit_header(self, operation: str) -> str:
        """``x-amzn-RateLimit-Limit``: the usage plan's rate (not scaled by ``rate_factor``)."""
        return RateMeter.limit_header(operation)

    # -- faults and the call log ---------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self._faults.add(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def take_fault(
        self, operation: str, seller_id: str | None, order_id: str | None = None
    ) -> Fault | None:
        """The first queued fault for this call, with one of its uses spent."""
        with self.lock:
            return self._faults.take(operation, seller_id, order_id)

    def record_call(
        self,
        request_id: str,
        operation: str,
        seller_id: str | None,
        status: int,
        fault: str | None,
    ) -> None:
        with self.lock:
            self._calls.record(
                CallRecord(iso(self.now()), request_id, operation, seller_id, status, fault)
            )

    def call_log(self, operation: str | None = None, limit: int = 100) -> list[CallRecord]:
        with self.lock:
            return self._calls.select(operation, limit)

    def clear_calls(self) -> None:
        with self.lock:
            self._calls.clear()

    # -- orders --------------------------------------------------------------------------------

    def add_order(self, order: SandboxOrder) -> None:
        with self.lock:
            if order.order_id in self.orders:
                raise SandboxError(f"order {order.order_id} exists", status=409)
            self.orders[order.order_id] = order
            self.post_shipments(order)  # an order made as shipped has been charged
            self.notifier.order_changed(order)

    def order(self, order_id: str) -> SandboxOrder:
        found = self.orders.get(order_id)
        if found is None:
            raise SandboxError(f"unknown order {order_id}", status=404)
        return found

    def touch(self, order: SandboxOrder) -> None:
        """Record a change: Amazon moves lastUpdatedTime on every change to an order."""
        order.updated_at = max(whole_seconds(self.now()), order.created_at)
        self.notifier.order_changed(order)  # what Amazon would announce of it, if anything

    def set_status(self, order_id: str, status: str) -> SandboxOrder:
        if status not in FULFILLMENT_STATUSES:
            raise SandboxError(f"unknown status {status!r}; one of {FULFILLMENT_STATUSES}")
        with self.lock:
            order = self.order(order_id)
            apply_status(order, status, self.now(), self.rng)
            self.post_shipments(order)
            self.touch(order)
            return order

    def request_cancellation(
        self, order_id: str, reason: str, item_ids: list[str] | None
    ) -> SandboxOrder:
        with self.lock:
            order = self.order(order_id)
            wanted = set(item_ids) if item_ids else {i.order_item_id for i in order.items}
            unknown = wanted - {i.order_item_id for i in order.items}
            if unknown:
                raise SandboxError(f"unknown order item ids {sorted(unknown)}")
            for item in order.items:
                if item.order_item_id in wanted:
                    item.cancel_reason = reason
            self.touch(order)
            return order

    def patch_raw(self, order_id: str, patch: dict[str, Any], replace: bool) -> SandboxOrder:
        with self.lock:
            order = self.order(order_id)
            order.overrides = (
                dict(patch) if replace else deep_merge(order.overrides, patch, keep_none=True)
            )
            self.touch(order)
            return order

    def orders_of(self, seller_id: str) -> list[SandboxOrder]:
        with self.lock:
            return [o for o in self.orders.values() if o.seller_id == seller_id]

    # -- financial events ----------------------------------------------------------------------

    def post_shipments(self, order: SandboxOrder) -> FinancialEvent | None:
        """A shipment event for the order's units shipped since the last one (if any)."""
        with self.lock:
            return self.finances.post_shipments(order, self.now())

    def new_adjustment_item_id(self) -> str:
        """Amazon's ``OrderAdjustmentItemId`` for an adjustment about to be recorded."""
        with self.lock:
            return self.finances.new_adjustment_item_id()

    def post_refund(
        self, order: SandboxOrder, adjusted: list[tuple[SandboxItem, SandboxAdjustment]]
    ) -> FinancialEvent:
        """The refund event of adjustments just recorded on the order's items."""
        with self.lock:
            return self.finances.post_refund(order, adjusted, self.now())

    def financial_events(self, seller_id: str) -> list[FinancialEvent]:
        with self.lock:
            return self.finances.of_seller(seller_id)

    def event_groups(self, seller_id: str) -> list[EventGroup]:
        """The seller's financial event groups as they stand now, oldest first."""
        with self.lock:
            return self.finances.groups(seller_id, self.now())

    # -- feeds and feed documents -------------------------------------------------------------

    def new_document_id(self) -> str:
        """An id shaped like Amazon's (``amzn1.tortuga.4.na.<uuid>``), drawn from ``rng``."""
        raw = f"{self.rng.getrandbits(128):032x}"
        uid = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
        return f"amzn1.tortuga.4.na.{uid}.T{self.rng.randrange(10**12, 10**13)}"

    def add_feed_document(self, document: SandboxFeedDocument) -> None:
        with self.lock:
            if document.document_id in self.feed_documents:
                raise SandboxError(f"feed document {document.document_id} exists", status=409)
            self.feed_documents[document.document_id] = document

    def feed_document(self, document_id: str) -> SandboxFeedDocument:
        found = self.feed_documents.get(document_id)
        if found is None:
            raise SandboxError(f"unknown feed document {document_id}", status=404)
        return found

    def new_feed_id(self) -> str:
        with self.lock:
            return str(FIRST_FEED_ID + len(self.feeds) + 1)

    def add_feed(self, feed: SandboxFeed) -> None:
        with self.lock:
            if feed.feed_id in self.feeds:
                raise SandboxError(f"feed {feed.feed_id} exists", status=409)
            self.feeds[feed.feed_id] = feed

    def feed(self, feed_id: str) -> SandboxFeed:
        found = self.feeds.get(feed_id)
        if found is None:
            raise SandboxError(f"unknown feed {feed_id}", status=404)
        return found

    # -- the whole -----------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Counts for ``GET /_sandbox/state``: orders by seller and status, packages, calls."""
        with self.lock:
            by_seller: dict[str, dict[str, int]] = {s: {} for s in self.sellers}
            packages = 0
            for order in self.orders.values():
                counts = by_seller.setdefault(order.seller_id, {})
                counts[order.status] = counts.get(order.status, 0) + 1
                packages += len(order.packages)
            feeds_by_status: dict[str, int] = {}
            for feed in self.feeds.values():
                feeds_by_status[feed.status] = feeds_by_status.get(feed.status, 0) + 1
            return {
                "now": iso(self.now()),
                "clock_offset_seconds": self.clock_offset.total_seconds(),
                "rate_factor": self.rate_factor,
                "sellers": sorted(self.sellers),
                "orders": len(self.orders),
                "orders_by_seller_and_status": by_seller,
                "packages": packages,
                "access_tokens": len(self.access_tokens),
                "faults": [
                    {"operation": f.operation, "kind": f.kind, "count": f.count}
                    for f in self.faults
                ],
                "calls": len(self._calls),
                "feeds_by_status": feeds_by_status,
                "feed_documents": len(self.feed_documents),
                "financial_events": len(self.finances.events),
                "reports": len(self.reports.reports),
                "state_file": self.state_file,
                "unsaved_changes": self.state_file is not None
                and self.changes != self.saved_changes,
            }

    def reset(self) -> None:
        """Forget everything but the demo seller; rate limits and clock start afresh (and a
        kept state is overwritten with the fresh one at the keeper's next save)."""
        with self.lock:
            self._credentials.clear()
            self.orders.clear()
            self._meter.clear()
            self._faults.clear()
            self._calls.clear()
            self.feed_documents.clear()
            self.feeds.clear()
            self.gzip_feed_results = False
            self.feed_processing_seconds = None
            self.finances.clear()
            self.reports.clear()
            self.notifications.clear()
            self.notifier.remember([])
            self._clock.reset()
            self.add_seller(DEMO_SELLER)

    # -- what survives a restart ---------------------------------------------------------------

    def mark_changed(self) -> None:
        """Something may have changed: the keeper saves the state within its interval."""
        with self.lock:
            self.changes += 1

    def snapshot(self) -> SavedState:
        """What a restart keeps (``saved``), over the live records: pickle it under the lock."""
        with self.lock:
            return SavedState(
                sellers=self._credentials.sellers,
                access_tokens=self._credentials.access_tokens,
                orders=self.orders,
                feed_documents=self.feed_documents,
                feeds=self.feeds,
                events=self.finances.events,
                adjustment_items=self.finances.adjustment_items,
                group_closes=self.finances.closes,
                reports=self.reports,
                clock_offset=self._clock.offset,
                rng_state=self.rng.getstate(),
                pagination_key=self._pagination.key,
                gzip_feed_results=self.gzip_feed_results,
                feed_processing_seconds=self.feed_processing_seconds,
                grantless_tokens=self._credentials.grantless_tokens,
                notifications=self.notifications,
            )

    def restore(self, saved: SavedState) -> None:
        """Become the state that was saved (buckets, faults and the call log start afresh)."""
        with self.lock:
            self.reset()
            self._credentials.sellers.clear()
            self._credentials.sellers.update(saved.sellers)
            self._credentials.access_tokens.update(saved.access_tokens)
            self.orders.update(saved.orders)
            self.feed_documents.update(saved.feed_documents)
            self.feeds.update(saved.feeds)
            self.finances.clear(saved.events, saved.adjustment_items, saved.group_closes)
            self.reports.clear(saved.reports)
            self._clock.reset(saved.clock_offset)
            self.rng.setstate(saved.rng_state)
            self._pagination = PaginationSigner(saved.pagination_key)
            self.gzip_feed_results = saved.gzip_feed_results
            self.feed_processing_seconds = saved.feed_processing_seconds
            self._credentials.grantless_tokens.update(saved.grantless_tokens)
            self.notifications.clear(saved.notifications)
            self.notifier.remember(list(self.orders.values()))  # announced before the restart

    # -- pagination tokens ---------------------------------------------------------------------

    def make_pagination_token(self, payload: dict[str, Any]) -> str:
        """An opaque, signed token carrying the query, the position and when it was issued."""
        return self._pagination.make(payload, self.now())

    def read_pagination_token(self, token: str) -> dict[str, Any]:
        """The payload of a token this sandbox issued; ``SandboxError`` if forged or expired."""
        return self._pagination.read(token, self.now())
