"""The relay's DeliveryLedger port's fake: deliveries in memory, leased and fenced by attempt
as the SQL ledger does (without the chains per order, which its own tests hold)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from tests.fakes.clock import T0


@dataclass(frozen=True)
class FakeLeased:
    delivery_id: int
    attempt: int
    subscriber_url: str
    event_id: uuid.UUID
    topic: str
    created_at: datetime
    payload_json: str
    timestamp: int


@dataclass
class FakeDelivery:
    subscriber_url: str
    topic: str
    payload_json: str
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    state: str = "pending"
    attempts: int = 0
    leased: bool = False
    # False while a retry waits for its next attempt (the SQL ledger's ``next_attempt_at``).
    due: bool = True


@dataclass
class FakeLedger:
    deliveries: list[FakeDelivery] = field(default_factory=list)
    # (delivery index, attempt, outcome, status) of every attempt recorded.
    log: list[tuple[int, int, str, int | None]] = field(default_factory=list)

    def add(self, url: str, topic: str = "orders/created", payload: str = "{}") -> FakeDelivery:
        delivery = FakeDelivery(url, topic, payload)
        self.deliveries.append(delivery)
        return delivery

    def claim_next(self, *, lease_s: float) -> FakeLeased | None:
        for index, d in enumerate(self.deliveries):
            if d.state == "pending" and d.due and not d.leased:
                d.leased = True
                d.attempts += 1
                return FakeLeased(
                    index,
                    d.attempts,
                    d.subscriber_url,
                    d.event_id,
                    d.topic,
                    T0,
                    d.payload_json,
                    int(T0.timestamp()),
                )
        return None

    def record_attempt(
        self,
        delivery_id: int,
        attempt: int,
        outcome: str,
        *,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        retry_window_s: float,
        retry_delay_s: float,
    ) -> str:
        self.log.append((delivery_id, attempt, outcome, status_code))
        d = self.deliveries[delivery_id]
        if not d.leased or d.attempts != attempt:
            return "superseded"
        d.leased = False
        d.state = {"delivered": "delivered", "gone": "dead"}.get(outcome, "pending")
        d.due = d.state != "pending"
        return d.state
