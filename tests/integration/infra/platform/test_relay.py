"""Platform events reach a real HTTP subscriber: signed, at least once, in order per order.

The relay runs directly over the store's deliveries on the session's PostgreSQL; time is driven
by moving ``next_attempt_at`` / ``lease_until`` to now(), never by sleeping.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from infra.db.deliveries import SUPERSEDED, DispatchReport, SqlDeliveries
from infra.platform import relay
from infra.platform.relay import DeliveryReport
from infra.platform.webhooks import AttemptResult, WebhookConfigError, verify_signature

pytestmark = pytest.mark.integration

SECRET = "whsec_integration"


@dataclass(frozen=True)
class Received:
    event_id: str
    topic: str
    attempt: int
    status: int
    signature_ok: bool
    body: dict[str, Any]


class Subscriber:
    """A tiny webhook endpoint on 127.0.0.1 that records every request. ``script`` holds the
    statuses of the next requests (200 once it is empty); ``stop``/``start`` keep the port, so
    the same URL is refused while it is down and answers again once it is back."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: deque[int] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/amazon"

    def start(self) -> None:
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                subscriber._record(self.headers, body)
                with subscriber._lock:
                    status = subscriber.script.popleft() if subscriber.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def _record(self, headers: Any, body: bytes) -> None:
        ok = verify_signature(
            SECRET, headers["X-Channel-Timestamp"], body, headers["X-Channel-Signature"]
        )
        with self._lock:
            status = self.script[0] if self.script else 200
            self.received.append(
                Received(
                    event_id=headers["X-Channel-Event-Id"],
                    topic=headers["X-Channel-Topic"],
                    attempt=int(headers["X-Channel-Delivery-Attempt"]),
                    status=status,
                    signature_ok=ok,
                    body=json.loads(body),
                )
            )

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[str]:
        """Event ids the subscriber accepted (2xx), in arrival order."""
        return [r.event_id for r in self.received if 200 <= r.status < 300]


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    s = Subscriber()
    s.start()
    yield s
    s.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(5.0)) as client:
        yield client


def add_event(engine: Engine, order: str, topic: str = "orders/updated") -> str:
    event_id = uuid.uuid4()
    payload = {"amazon_order_id": order, "status": "Unshipped", "buyer_notified_by": "amazon"}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO outbox_events (event_id, topic, aggregate_key, payload)"
                " VALUES (:id, :topic, :key, CAST(:payload AS jsonb))"
            ),
            {
                "id": event_id,
                "topic": topic,
                "key": f"order:1:{order}",
                "payload": json.dumps(payload),
            },
        )
    return str(event_id)


def fan_out(sessions: sessionmaker[Session], *urls: str) -> DispatchReport:
    return SqlDeliveries(sessions).dispatch(list(urls))


def deliver(
    sessions: sessionmaker[Session], http: httpx.Client, retry_hours: float = 24.0
) -> DeliveryReport:
    return relay.deliver_due(
        SqlDeliveries(sessions), http, secret=SECRET, retry_hours=retry_hours, lease_s=60
    )


def make_retries_due(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE state = 'pending'")
        )


def deliveries(engine: Engine) -> dict[str, tuple[str, int, str | None]]:
    """event uuid -> (state, attempts, last_error)."""
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT e.event_id, d.state, d.attempts, d.last_error FROM webhook_deliveries d"
                " JOIN outbox_events e ON e.id = d.event_id"
            )
        ).all()
    return {str(r[0]): (r[1], r[2], r[3]) for r in rows}


def count(engine: Engine, table: str) -> int:
    with engine.begin() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_events_reach_the_subscriber_signed_in_their_envelope(
    clean_db: Engine,
    session_factory: sessionmaker[Session],
    subscriber: Subscriber,
    http: httpx.Client,
) -> None:
    created = add_event(clean_db, "113-0000001-0000001", "orders/created")
    cancelled = add_event(clean_db, "113-0000002-0000001", "orders/cancelled")

    assert fan_out(session_factory, subscriber.url) == DispatchReport(events=2, deliveries=2)
    report = deliver(session_factory, http)

    assert (report.claimed, report.delivered, report.more) == (2, 2, False)
    assert subscriber.delivered() == [created, cancelled]
    first, second = subscriber.received
    assert first.signature_ok and second.signature_ok
    assert (first.topic, first.attempt) == ("orders/created", 1)
    assert first.body["id"] == created and first.body["topic"] == "orders/created"
    assert first.body["data"] == {
        "amazon_order_id": "113-0000001-0000001",
        "status": "Unshipped",
        "buyer_notified_by": "amazon",
    }
    assert deliveries(clean_db) == {
        created: ("delivered", 1, None),
        cancelled: ("delivered", 1, None),
    }
    assert count(clean_db, "webhook_attempts") == 2


def test_dispatching_twice_creates_no_duplicate_deliveries(
    clean_db: Engine, session_factory: sessionmaker[Session]
) -> None:
    for n in range(3):
        add_event(clean_db, f"113-000000{n}-0000001")
    urls = ("http://a.example/hook", "http://b.example/hook")

    assert fan_out(session_factory) == DispatchReport(0, 0)  # no subscriber yet: events wait
    assert fan_out(session_factory, *urls) == DispatchReport(events=3, deliveries=6)
    assert fan_out(session_factory, *urls) == DispatchReport(0, 0)
    # A dispatcher that re-reads the same events (as if dispatched_at were lost) adds nothing.
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE outbox_events SET dispatched_at = NULL"))
    assert fan_out(session_factory, *urls) == DispatchReport(events=3, deliveries=0)
    assert count(clean_db, "webhook_deliveries") == 6


def test_events_of_one_order_stay_in_order_when_an_earlier_delivery_fails(
    clean_db: Engine,
    session_factory: sessionmaker[Session],
    subscriber: Subscriber,
    http: httpx.Client,
) -> None:
    a1 = add_event(clean_db, "A", "orders/created")
    b1 = add_event(clean_db, "B", "orders/created")
    a2 = add_event(clean_db, "A", "orders/cancelled")
    fan_out(session_factory, subscriber.url)
    subscriber.script.append(503)

    report = deliver(session_factory, http)

    # A1 failed and waits for its retry; A2 waits behind it; B's chain is not held up.
    assert (report.claimed, report.delivered, report.retrying) == (2, 1, 1)
    assert [r.event_id for r in subscriber.received] == [a1, b1]
    assert deliveries(clean_db)[a1] == ("pending", 1, "HTTP 503")
    assert deliveries(clean_db)[a2] == ("pending", 0, None)

    make_retries_due(clean_db)
    report = deliver(session_factory, http)

    assert (report.claimed, report.delivered) == (2, 2)
    assert subscriber.delivered() == [b1, a1, a2]
    assert [r.attempt for r in subscriber.received if r.event_id == a1] == [1, 2]


def test_a_subscriber_that_was_down_gets_every_event_once_it_is_back(
    clean_db: Engine,
    session_factory: sessionmaker[Session],
    subscriber: Subscriber,
    http: httpx.Client,
) -> None:
    events = [add_event(clean_db, order) for order in ("A", "B", "A", "B", "A")]
    fan_out(session_factory, subscriber.url)

    subscriber.stop()  # connection refused
    report = deliver(session_factory, http)
    assert (report.claimed, report.retrying, report.delivered) == (2, 2, 0)
    assert all(
        "ConnectError" in (error or "") for _, _, error in deliveries(clean_db).values() if error
    )

    subscriber.start()  # back on the same port, but overloaded for two more requests
    subscriber.script.extend([503, 503])
    make_retries_due(clean_db)
    report = deliver(session_factory, http)
    assert (report.claimed, report.retrying, report.delivered) == (2, 2, 0)

    make_retries_due(clean_db)
    report = deliver(session_factory, http)

    assert (report.delivered, report.retrying, report.dead) == (5, 0, 0)
    assert subscriber.delivered() == events  # each once; per order in order (A1 B1 A2 B2 A3)
    assert all(r.signature_ok for r in subscriber.received)
    assert {state for state, _, _ in deliveries(clean_db).values()} == {"delivered"}
    assert count(clean_db, "webhook_attempts") == 9  # 2 refused + 2 x 503 + 5 delivered


def test_a_delivery_whose_lease_expired_is_sent_again_and_the_late_result_is_ignored(
    clean_db: Engine,
    session_factory: sessionmaker[Session],
    subscriber: Subscriber,
    http: httpx.Client,
) -> None:
    first = add_event(clean_db, "A")
    second = add_event(clean_db, "A")
    fan_out(session_factory, subscriber.url)
    # A worker claims the first delivery and is killed before it records anything.
    killed = relay.claim(SqlDeliveries(session_factory), lease_s=60)
    assert killed is not None and str(killed.event.event_id) == first

    # While its lease is live nobody else sends it, nor anything after it for that order.
    assert deliver(session_factory, http).claimed == 0
    assert subscriber.received == []

    with clean_db.begin() as conn:
        conn.execute(text("UPDATE webhook_deliveries SET lease_until = now() - interval '1 s'"))
    report = deliver(session_factory, http)

    assert (report.claimed, report.delivered) == (2, 2)
    assert subscriber.delivered() == [first, second]
    assert subscriber.received[0].attempt == 2
    # The killed worker's result, should it arrive, cannot overwrite the newer attempt.
    late = AttemptResult(status_code=503, error="HTTP 503", duration_ms=1)
    ledger = SqlDeliveries(session_factory)
    state = relay.record(ledger, killed, late, retry_window_s=3600, retry_delay_s=10)
    assert state == SUPERSEDED
    assert deliveries(clean_db)[first] == ("delivered", 2, None)


def test_a_delivery_dies_when_its_retry_window_is_over_or_the_subscriber_says_gone(
    clean_db: Engine,
    session_factory: sessionmaker[Session],
    subscriber: Subscriber,
    http: httpx.Client,
) -> None:
    expired = add_event(clean_db, "A")
    gone = add_event(clean_db, "B")
    after_it = add_event(clean_db, "A")
    with clean_db.begin() as conn:
        conn.execute(
            text(
                "UPDATE outbox_events SET created_at = now() - interval '2 hours'"
                " WHERE event_id = :id"
            ),
            {"id": uuid.UUID(expired)},
        )
    fan_out(session_factory, subscriber.url)
    subscriber.script.extend([503, 410])  # requests go out in event order: A1, B1, A2

    report = deliver(session_factory, http, retry_hours=1)

    # A dead delivery ends its chain's wait: the next event of that order goes out.
    assert (report.dead, report.delivered) == (2, 1)
    assert subscriber.delivered() == [after_it]
    states = deliveries(clean_db)
    assert states[expired] == ("dead", 1, "HTTP 503")
    assert states[gone][:2] == ("dead", 1)
    assert "410" in (states[gone][2] or "")


def test_nothing_is_sent_without_a_secret(session_factory: sessionmaker[Session]) -> None:
    with httpx.Client() as client, pytest.raises(WebhookConfigError):
        relay.deliver_due(
            SqlDeliveries(session_factory), client, secret="", retry_hours=1, lease_s=60
        )


def test_a_run_stops_at_its_limit_and_says_there_is_more(
    clean_db: Engine,
    session_factory: sessionmaker[Session],
    subscriber: Subscriber,
    http: httpx.Client,
) -> None:
    for order in ("A", "B", "C"):
        add_event(clean_db, order)
    fan_out(session_factory, subscriber.url)

    ledger = SqlDeliveries(session_factory)
    first = relay.deliver_due(ledger, http, secret=SECRET, retry_hours=1, lease_s=60, limit=2)
    second = relay.deliver_due(ledger, http, secret=SECRET, retry_hours=1, lease_s=60, limit=2)

    assert (first.delivered, first.more) == (2, True)
    assert (second.delivered, second.more) == (1, False)
    assert len(subscriber.delivered()) == 3
