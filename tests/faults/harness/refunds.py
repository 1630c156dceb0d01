"""Refunds and cancellations in a fault run: orders of their own arriving on Amazon, the platform
posting its requests through the web API (``Poster``: a 5xx or a dropped connection is retried
with the same Idempotency-Key), and the checks of what the store and the sandbox hold:

- I5: every accepted refund or cancellation (a 201) is stored once and is in a final state
  (``confirmed`` or ``failed``).
- I6: at most one adjustment per refund line at the sandbox: every adjustment a feed made names
  a store refund line (its MerchantAdjustmentItemID) that no other adjustment names; a confirmed
  refund's lines are each adjusted, a failed one's none; a confirmed whole-order cancellation
  left the order cancelled on Amazon and adjusted nothing.

Orders arrive bought two and a half minutes ago by the real clock (a fulfilment's ship date,
the real now, stays after the purchase) and last updated two and a half minutes ago by the
sandbox's clock, which a fault stack's set-up moved three minutes ahead: visible to a search at
once (Amazon hides the last two minutes) and inside the next sync's reach-back, whose fitted
overlap is a minute past Amazon's two for a busy seller. (Dated by the real clock alone, an
order showed up five and a half minutes behind the sandbox's now, which only the whole
five-minute overlap reached: a soak with the fitted overlap never synced 165 of them.)
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select

from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, build_order
from infra.amazon.sandbox.server import SandboxHandle
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.tables import Order, Refund, RefundLine
from tests.integration.workers.scenarios import TOKEN

FINAL = frozenset({"confirmed", "failed"})
KINDS = ("refund", "whole", "partial")  # a shipped order refunded; an unshipped one cancelled
BOUGHT_AGO = timedelta(seconds=150)


@dataclass(frozen=True, slots=True)
class Planned:
    """One order on Amazon and what the platform will ask for it: ``fulfil`` (ship it all),
    ``refund`` (one unit of its first line given back; the order shipped), ``whole`` (cancel the
    order) or ``partial`` (cancel one unit of its first line)."""

    platform_id: str
    kind: str
    order_id: str
    item_id: str
    quantity: int

    @property
    def path(self) -> str:
        if self.kind == "fulfil":
            return "/v1/fulfilments"
        return "/v1/refunds" if self.kind == "refund" else "/v1/cancellations"

    def body(self) -> dict[str, Any]:
        base: dict[str, Any] = {"account": "demo", "amazon_order_id": self.order_id}
        if self.kind == "refund":
            return {
                **base,
                "platform_refund_id": self.platform_id,
                "reason": "customer_return",
                "lines": [{"order_item_id": self.item_id, "quantity": 1}],
            }
        cancellation = {
            **base,
            "platform_cancellation_id": self.platform_id,
            "reason": "buyer_canceled",
        }
        if self.kind == "partial":
            cancellation["lines"] = [{"order_item_id": self.item_id, "quantity": 1}]
        return cancellation


def arrive(
    sandbox: SandboxHandle, kinds: Iterable[str], rng: random.Random, prefix: str, start: int
) -> list[Planned]:
    """One merchant order per kind on Amazon, by turns in the seller's marketplaces (a refund's
    order shipped, the others not), each first line of two or three units."""
    state = sandbox.state
    planned: list[Planned] = []
    with state.lock:
        bought = (datetime.now(UTC) - BOUGHT_AGO).replace(microsecond=0)
        updated = (state.now() - BOUGHT_AGO).replace(microsecond=0)
        for n, kind in enumerate(kinds, start):
            marketplace = DEMO_SELLER.marketplace_ids[n % len(DEMO_SELLER.marketplace_ids)]
            spec = OrderSpec(
                seller_id=DEMO_SELLER.seller_id,
                marketplace_id="ATVPDKIKX0DER" if kind == "fulfil" else marketplace,
                fulfilled_by="MERCHANT",
                status="SHIPPED" if kind == "refund" else "UNSHIPPED",
                items=[ItemSpec(sku=f"{prefix}-{n}", quantity=2 + n % 2)],
                created_time=bought,
            )
            order = build_order(state, spec, rng)
            order.updated_at = max(order.created_at, updated)
            state.add_order(order)
            item = order.items[0]
            letter = {"fulfil": "F", "refund": "R"}.get(kind, "C")
            planned.append(
                Planned(f"{prefix}{letter}-{n}", kind, order.order_id, item.order_item_id,
                        item.quantity)
            )  # fmt: skip
    return planned


def stored_orders(engine: Engine, order_ids: Iterable[str]) -> set[str]:
    wanted = list(order_ids)
    if not wanted:
        return set()
    with engine.connect() as conn:
        found = conn.execute(
            select(Order.amazon_order_id).where(Order.amazon_order_id.in_(wanted))
        ).scalars()
        return set(found)


@dataclass
class Poster:
    """The platform's requests over HTTP, each retried (the same Idempotency-Key) until the web
    answers 200/201 or refuses it: ``accepted`` holds the platform ids taken in, by kind."""

    base_url: str
    accepted: dict[str, set[str]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(
        self, http: httpx.Client, planned: Planned, shipped_at: datetime | None = None
    ) -> bool:
        from tests.integration.workers.scenarios import fulfilment_body, shipped_at_now

        if planned.kind == "fulfil":
            order = (planned.order_id, planned.item_id, planned.quantity)
            body = fulfilment_body(planned.platform_id, order, shipped_at or shipped_at_now())
        else:
            body = planned.body()
        headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": str(uuid.uuid4())}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                answer = http.post(planned.path, json=body, headers=headers)
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code in (200, 201):
                with self._lock:
                    self.accepted.setdefault(planned.kind, set()).add(planned.platform_id)
                return True
            if (
                answer is not None
                and answer.status_code < 500
                and answer.status_code
                not in (
                    408,
                    409,
                    429,
                )
            ):
                self.refused[planned.platform_id] = answer.text[:300]
                return False
            self.retries += 1
            time.sleep(0.5)
        self.refused[planned.platform_id] = "no answer within 180 s"
        return False

    def ids(self, *kinds: str) -> set[str]:
        with self._lock:
            return set().union(*(self.accepted.get(k, set()) for k in kinds))


class RefundLoad:
    """A matrix scenario's refunds: ``planned`` (on Amazon already) posted in a thread of its
    own, each once its order is in the store."""

    def __init__(self, engine: Engine, base_url: str, planned: list[Planned]) -> None:
        self.engine = engine
        self.planned = planned
        self.poster = Poster(base_url)
        self._thread = threading.Thread(target=self._run, name="refund-load", daemon=True)

    @property
    def accepted(self) -> set[str]:
        return self.poster.ids(*KINDS)

    def start(self) -> RefundLoad:
        self._thread.start()
        return self

    def join(self, timeout_s: float = 180) -> None:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the refund load did not finish posting"
        assert not self.poster.refused, f"refunds refused: {self.poster.refused}"

    def _run(self) -> None:
        waiting = list(self.planned)
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=self.poster.base_url, timeout=10) as http:
            while waiting and time.monotonic() < deadline:
                try:
                    synced = stored_orders(self.engine, (p.order_id for p in waiting))
                except Exception:
                    synced = set()
                for planned in [p for p in waiting if p.order_id in synced]:
                    self.poster.post(http, planned)
                    waiting.remove(planned)
                    time.sleep(0.1)
                time.sleep(0.5)
        for planned in waiting:
            self.poster.refused[planned.platform_id] = "its order never reached the store"


def check_refunds(engine: Engine, sandbox: SandboxHandle, accepted: set[str]) -> list[str]:
    """I5 and I6 now; each problem named (the first few of each kind)."""
    problems: list[str] = []
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Refund.id, Refund.platform_id, Refund.amazon_order_id, Refund.state,
                Refund.whole_order, Refund.source,
            ).where(Refund.source == "store")
        ).all()  # fmt: skip
        lines = conn.execute(select(RefundLine.refund_id, RefundLine.id)).all()
    by_platform = Counter(r.platform_id for r in rows)
    missing = sorted(accepted - by_platform.keys())
    twice = sorted(p for p, n in by_platform.items() if n > 1)
    open_ = sorted(str(r.platform_id) for r in rows if r.state not in FINAL)
    if missing:
        problems.append(f"I5: accepted but not stored: {missing[:5]}")
    if twice:
        problems.append(f"I5: stored twice: {twice[:5]}")
    if open_:
        problems.append(f"I5: {len(open_)} not final, e.g. {open_[:5]}")
    line_ids: dict[int, set[str]] = {}
    for refund_id, line_id in lines:
        line_ids.setdefault(refund_id, set()).add(str(line_id))
    state = sandbox.state
    wrong: list[str] = []
    with state.lock:
        adjusted: dict[str, Counter[str]] = {}
        status: dict[str, str] = {}
        for order_id in {r.amazon_order_id for r in rows}:
            order = state.order(order_id)
            status[order_id] = order.status
            adjusted[order_id] = Counter(
                str(a.merchant_adjustment_item_id)
                for item in order.items
                for a in item.adjustments
                if a.source == "feed"
            )
    for order_id, counts in adjusted.items():
        again = [m for m, n in counts.items() if n > 1]
        if again:
            wrong.append(f"{order_id}: adjusted twice {again}")
    for row in rows:
        if row.state not in FINAL:
            continue
        mine = line_ids.get(row.id, set())
        made = set(adjusted[row.amazon_order_id]) & mine
        if row.state == "failed" and made:
            wrong.append(f"{row.platform_id} failed but adjusted {sorted(made)}")
        elif row.state == "confirmed" and row.whole_order:
            if status[row.amazon_order_id] != "CANCELLED":
                wrong.append(f"{row.platform_id}: the order is {status[row.amazon_order_id]}")
        elif row.state == "confirmed" and made != mine:
            wrong.append(f"{row.platform_id}: lines {sorted(mine)} adjusted {sorted(made)}")
    if wrong:
        problems.append(f"I6: {len(wrong)} refunds not applied once, e.g. {wrong[:5]}")
    return problems


def refund_states(engine: Engine) -> Counter[str]:
    """The store's own refunds and cancellations by state."""
    with engine.connect() as conn:
        rows = conn.execute(select(Refund.kind, Refund.state).where(Refund.source == "store")).all()
    return Counter(f"{kind}/{state}" for kind, state in rows)
