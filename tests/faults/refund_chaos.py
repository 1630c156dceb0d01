"""What the refund chaos runs share: orders staged on the sandbox in three marketplaces and
synced, the platform's refund and cancellation bodies, the sandbox's control routes (Seller
Central refunds, adjustments, feed settings, faults), beat's ticks, and the store's view of the
refunds and feed submissions the final checks compare with what Amazon holds."""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, build_order
from infra.amazon.sandbox.server import SandboxHandle
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.tables import FeedSubmission, FinanceCursor, OutboxEvent, Refund, RefundLine
from infra.settings import Settings
from tests.integration.workers.scenarios import TOKEN
from workers import bootstrap

CREATE_FEED = "feeds.createFeed"
MARKETPLACES = DEMO_SELLER.marketplace_ids  # US (USD), UK (GBP), DE (EUR)
FINAL = ("confirmed", "failed")
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


@dataclass(frozen=True, slots=True)
class Staged:
    """One order on Amazon and what the platform asks for it. ``kind``: ``refund`` (shipped),
    ``partial`` (cancel one unit of the first line) or ``whole`` (cancel the order)."""

    n: int
    order_id: str
    kind: str
    item_ids: tuple[str, ...]
    principal: Decimal  # what the first line charged for its item price

    @property
    def platform_id(self) -> str:
        return f"{'R' if self.kind == 'refund' else 'C'}-{self.n}"

    @property
    def path(self) -> str:
        return "/v1/refunds" if self.kind == "refund" else "/v1/cancellations"

    def body(self, *, whole_principal: bool = False) -> dict[str, Any]:
        """The platform's request: a refund of the first line (all of its item price, or by
        turns one unit or half of it), one unit of the first line cancelled, or the whole
        order cancelled."""
        base: dict[str, Any] = {"account": "demo", "amazon_order_id": self.order_id}
        first = self.item_ids[0]
        if self.kind == "refund":
            if whole_principal:
                amounts = {"item_price": str(self.principal)}
                line: dict[str, Any] = {"order_item_id": first, "amounts": amounts}
            elif self.n % 2:
                line = {"order_item_id": first, "quantity": 1}
            else:
                half = (self.principal / 2).quantize(Decimal("0.01"))
                line = {"order_item_id": first, "amounts": {"item_price": str(half)}}
            return {
                **base,
                "platform_refund_id": self.platform_id,
                "reason": "customer_return",
                "lines": [line],
            }
        cancellation = {
            **base,
            "platform_cancellation_id": self.platform_id,
            "reason": "buyer_canceled",
        }
        if self.kind == "partial":
            cancellation["lines"] = [{"order_item_id": first, "quantity": 1}]
        return cancellation


def stage(sandbox: SandboxHandle, kinds: list[str], seed: int) -> list[Staged]:
    """One seller-fulfilled order per kind on Amazon, by turns in each marketplace, bought ten
    minutes ago (visible to searches at once; the sandbox's clock is not moved, so Amazon's
    "now" stays ours). Refunded orders have shipped; cancelled ones have not. Each first line
    has two or three units (one can be cancelled alone), and half of the orders a second line."""
    state, rng = sandbox.state, random.Random(seed)
    staged: list[Staged] = []
    with state.lock:
        bought = state.now() - timedelta(minutes=10)
        for n, kind in enumerate(kinds):
            items = [ItemSpec(sku=f"SKU-{n}-A", quantity=2 + n % 2)]
            if n % 2 == 0:
                items.append(ItemSpec(sku=f"SKU-{n}-B", quantity=1))
            spec = OrderSpec(
                seller_id=DEMO_SELLER.seller_id,
                marketplace_id=MARKETPLACES[n % len(MARKETPLACES)],
                fulfilled_by="MERCHANT",
                status="SHIPPED" if kind == "refund" else "UNSHIPPED",
                items=items,
                created_time=bought,
            )
            order = build_order(state, spec, rng)
            state.add_order(order)
            first = order.items[0]
            staged.append(
                Staged(
                    n=n,
                    order_id=order.order_id,
                    kind=kind,
                    item_ids=tuple(i.order_item_id for i in order.items),
                    principal=first.unit_price * first.quantity,
                )
            )
    return staged


def sync(settings: Settings, expected: int) -> None:
    """One sync of the demo account in this process (the account must exist)."""
    bootstrap.use(settings)
    try:
        report = bootstrap.sync_account("demo")
    finally:
        bootstrap.reset_and_close()
    assert report.created == expected, report


# --- the sandbox's control routes --------------------------------------------------------------


def control(sandbox: SandboxHandle) -> httpx.Client:
    return httpx.Client(base_url=f"{sandbox.base_url}/_sandbox", timeout=30)


def seller_central_refund(http: httpx.Client, staged: Staged) -> dict[str, Any]:
    """The seller refunds the first line's item price in full by hand, in Seller Central."""
    body = {
        "reason": "CustomerReturn",
        "items": [
            {
                "order_item_id": staged.item_ids[0],
                "components": [{"type": "Principal", "amount": str(staged.principal)}],
            }
        ],
    }
    answer = http.post(f"/orders/{staged.order_id}/seller-central-refunds", json=body)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def adjustments(http: httpx.Client, order_id: str) -> list[dict[str, Any]]:
    answer = http.get(f"/orders/{order_id}/adjustments")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["adjustments"]
    return found


def order_view(http: httpx.Client, order_id: str) -> dict[str, Any]:
    answer = http.get(f"/orders/{order_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def feed_processing(http: httpx.Client, seconds: float) -> None:
    answer = http.post("/feed-settings", json={"processing_seconds": seconds})
    assert answer.status_code == 200, answer.text


def add_fault(http: httpx.Client, operation: str, kind: str, count: int = 1, **extra: Any) -> None:
    answer = http.post(
        "/faults", json={"operation": operation, "kind": kind, "count": count, **extra}
    )
    assert answer.status_code == 201, answer.text


def feeds(http: httpx.Client) -> list[dict[str, Any]]:
    answer = http.get("/feeds", params={"seller_id": DEMO_SELLER.seller_id})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["feeds"]
    return found


# --- the platform's requests -------------------------------------------------------------------


def post(http: httpx.Client, staged: Staged, **options: Any) -> dict[str, Any]:
    """The platform's request over HTTP; it must be accepted (201)."""
    headers = {**HEADERS, "Idempotency-Key": str(uuid.uuid4())}
    answer = http.post(staged.path, json=staged.body(**options), headers=headers)
    assert answer.status_code == 201, f"{staged.order_id}: {answer.text}"
    found: dict[str, Any] = answer.json()
    return found


# --- beat --------------------------------------------------------------------------------------


@contextlib.contextmanager
def beat(app: Any, every_s: float = 3.0) -> Iterator[None]:
    """Beat's ``refund.sweep`` trigger, every few seconds while the block runs: what batches
    refunds that waited, and queues the submissions a killed worker or a lost message left."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every_s):
            app.send_task("refund.sweep")

    thread = threading.Thread(target=tick, name="refund-beat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


# --- the worker's killer -----------------------------------------------------------------------


def calls(sandbox: SandboxHandle, operation: str) -> int:
    return len(sandbox.state.call_log(operation, limit=10_000))


def feed_of_each_create(sandbox: SandboxHandle) -> list[tuple[str, str | None]]:
    """(feed id, the fault its createFeed met) for every feed Amazon created: the sandbox
    creates a feed and logs its call in one step, so the n-th applied createFeed made the
    n-th feed."""
    applied = [c for c in sandbox.state.call_log(CREATE_FEED, limit=10_000) if c.status < 300]
    with sandbox.state.lock:
        made = sorted(sandbox.state.feeds, key=int)
    assert len(applied) == len(made), (applied, made)
    return [(feed_id, call.fault) for feed_id, call in zip(made, applied, strict=True)]


# --- the store ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRefund:
    id: int
    kind: str
    source: str
    amazon_order_id: str
    platform_id: str | None
    state: str
    whole_order: bool
    failure_code: str | None
    failure_reason: str | None
    line_ids: tuple[int, ...]


def refunds(engine: Engine) -> list[StoredRefund]:
    with engine.connect() as conn:
        rows = conn.execute(select(Refund).order_by(Refund.id)).all()
        lines = conn.execute(select(RefundLine.refund_id, RefundLine.id)).all()
    by_refund: dict[int, list[int]] = {}
    for refund_id, line_id in lines:
        by_refund.setdefault(refund_id, []).append(line_id)
    return [
        StoredRefund(
            id=r.id,
            kind=r.kind,
            source=r.source,
            amazon_order_id=r.amazon_order_id,
            platform_id=r.platform_id,
            state=r.state,
            whole_order=r.whole_order,
            failure_code=r.failure_code,
            failure_reason=r.failure_reason,
            line_ids=tuple(sorted(by_refund.get(r.id, []))),
        )
        for r in rows
    ]


def settled(engine: Engine) -> int:
    """The store's own refunds in a final state."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(Refund)
                .where(Refund.source == "store", Refund.state.in_(FINAL))
            ).scalar_one()
        )


def finance_watermark(engine: Engine) -> datetime | None:
    """Up to when the sweeps have read Amazon's refunds (every account's)."""
    with engine.connect() as conn:
        found: datetime | None = conn.execute(select(func.min(FinanceCursor.posted_after))).scalar()
    return found


def submissions(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    FeedSubmission.id,
                    FeedSubmission.feed_type,
                    FeedSubmission.marketplace_id,
                    FeedSubmission.state,
                    FeedSubmission.amazon_feed_id,
                    FeedSubmission.message_count,
                    FeedSubmission.evidence,
                    FeedSubmission.last_error,
                ).order_by(FeedSubmission.id)
            ).all()
        )


def topics(engine: Engine, topic: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(payload)
            for (payload,) in conn.execute(
                select(OutboxEvent.payload).where(OutboxEvent.topic == topic)
            ).all()
        ]


def describe(engine: Engine) -> str:
    """The store's refund and submission states, for a failure's message."""
    states: dict[str, int] = {}
    for refund in refunds(engine):
        key = f"{refund.source}/{refund.state}"
        states[key] = states.get(key, 0) + 1
    subs = [
        (s.id, s.feed_type[-15:], s.state, s.message_count, s.last_error)
        for s in submissions(engine)
    ]
    return f"refunds {states}; submissions {subs}"


def until(
    predicate: Callable[[], bool],
    timeout_s: float,
    why: Callable[[], str],
    interval_s: float = 0.5,
) -> None:
    """``wait_for`` that says what stood where when time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval_s)
    raise AssertionError(f"not within {timeout_s}s: {why()}")
