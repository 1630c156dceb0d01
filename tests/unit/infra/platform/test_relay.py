"""The relay over a fake ledger and a mock transport: each claimed delivery is posted signed,
and what the subscriber answered is recorded under the claim's lease."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from infra.platform import relay
from infra.platform.webhooks import AttemptResult, WebhookConfigError, verify_signature
from tests.fakes import FakeLedger

SECRET = "whsec_unit"
URL = "https://platform.example/hooks/amazon"


def client(statuses: list[int], seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(statuses.pop(0) if statuses else 200)

    return httpx.Client(transport=httpx.MockTransport(handler))


def deliver(ledger: FakeLedger, http: httpx.Client, **options: object) -> relay.DeliveryReport:
    return relay.deliver_due(
        ledger,
        http,
        secret=SECRET,
        retry_hours=24,
        lease_s=60,
        rng=random.Random(1),
        **options,  # type: ignore[arg-type]
    )


def test_each_delivery_is_posted_signed_and_its_answer_recorded() -> None:
    ledger = FakeLedger()
    ledger.add(URL, "orders/created", '{"amazon_order_id": "A"}')
    ledger.add(URL, "orders/updated", '{"amazon_order_id": "B"}')
    ledger.add(URL, "orders/cancelled", '{"amazon_order_id": "C"}')
    seen: list[httpx.Request] = []
    with client([200, 503, 410], seen) as http:
        report = deliver(ledger, http)

    assert (report.claimed, report.delivered, report.retrying, report.dead) == (3, 1, 1, 1)
    assert report.more is False
    assert [d.state for d in ledger.deliveries] == ["delivered", "pending", "dead"]
    assert [outcome for _, _, outcome, _ in ledger.log] == ["delivered", "retry", "gone"]
    first = seen[0]
    assert verify_signature(
        SECRET,
        first.headers["X-Channel-Timestamp"],
        first.content,
        first.headers["X-Channel-Signature"],
        now=float(first.headers["X-Channel-Timestamp"]),
    )
    assert json.loads(first.content)["data"] == {"amazon_order_id": "A"}
    assert first.headers["X-Channel-Delivery-Attempt"] == "1"


def test_a_run_stops_at_its_limit_and_says_there_may_be_more() -> None:
    ledger = FakeLedger()
    for _ in range(3):
        ledger.add(URL)
    with client([], []) as http:
        report = deliver(ledger, http, limit=2)
    assert (report.claimed, report.delivered, report.more) == (2, 2, True)


def test_a_late_result_of_a_lease_taken_over_is_superseded() -> None:
    ledger = FakeLedger()
    ledger.add(URL)
    stale = relay.claim(ledger, lease_s=60)
    assert stale is not None
    ledger.deliveries[0].leased = False  # the lease ran out; another worker claims it
    fresh = relay.claim(ledger, lease_s=60)
    assert fresh is not None and fresh.attempt == 2
    late = AttemptResult(status_code=200, error=None, duration_ms=1)
    assert relay.record(ledger, stale, late, retry_window_s=60, retry_delay_s=1) == "superseded"
    assert relay.record(ledger, fresh, late, retry_window_s=60, retry_delay_s=1) == "delivered"


def test_nothing_is_claimed_without_a_secret() -> None:
    ledger = FakeLedger()
    ledger.add(URL)
    with client([], []) as http, pytest.raises(WebhookConfigError):
        relay.deliver_due(ledger, http, secret="", retry_hours=1, lease_s=60)
    assert ledger.deliveries[0].attempts == 0
