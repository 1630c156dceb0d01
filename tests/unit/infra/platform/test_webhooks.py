"""Webhooks on the wire: the envelope, the signature a subscriber verifies, one attempt's result."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from infra.platform.webhooks import (
    RETRY_CAP_S,
    Outcome,
    WebhookConfigError,
    WebhookEvent,
    classify,
    encode_body,
    retry_delay,
    send,
    sign,
    verify_signature,
)

SECRET = "whsec_test"
NOW = 1_790_000_000
EVENT = WebhookEvent(
    event_id=uuid.UUID("8b1f2c1e-7d1a-4c55-9a53-3f3c1f2e9d10"),
    topic="orders/created",
    created_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
    payload_json='{"amazon_order_id": "113-0000001-0000001", "total": "12.50",'
    ' "buyer_notified_by": "amazon"}',
)


def test_the_body_is_the_envelope_around_the_stored_payload() -> None:
    body = json.loads(encode_body(EVENT))
    assert body == {
        "id": "8b1f2c1e-7d1a-4c55-9a53-3f3c1f2e9d10",
        "topic": "orders/created",
        "created_at": "2026-11-01T12:00:00+00:00",
        "data": {
            "amazon_order_id": "113-0000001-0000001",
            "total": "12.50",
            "buyer_notified_by": "amazon",
        },
    }


def test_the_signature_is_an_hmac_of_timestamp_dot_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(SECRET.encode(), b"1790000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, body) == f"sha256={expected}"


def test_a_subscriber_accepts_what_we_signed() -> None:
    body = encode_body(EVENT)
    header = sign(SECRET, NOW, body)
    assert verify_signature(SECRET, str(NOW), body, header, now=NOW + 10)


@pytest.mark.parametrize(
    ("secret", "body", "timestamp"),
    [
        ("another secret", b'{"a":1}', NOW),
        (SECRET, b'{"a":2}', NOW),
        (SECRET, b'{"a":1}', NOW + 1),
    ],
    ids=["wrong secret", "altered body", "altered timestamp"],
)
def test_a_subscriber_rejects_anything_altered(secret: str, body: bytes, timestamp: int) -> None:
    header = sign(SECRET, NOW, b'{"a":1}')
    assert not verify_signature(secret, timestamp, body, header, now=NOW)


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_subscriber_rejects_a_replay_outside_the_tolerance(skew: int) -> None:
    body = b'{"a":1}'
    header = sign(SECRET, NOW, body)
    assert verify_signature(SECRET, NOW, body, header, now=NOW + 300)
    assert not verify_signature(SECRET, NOW, body, header, now=NOW - skew)
    assert verify_signature(SECRET, NOW, body, header, tolerance_s=600, now=NOW - skew)


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [("not a number", None), (str(NOW), ""), (str(NOW), "md5=abc"), (str(NOW), "sha256=zz")],
)
def test_a_subscriber_rejects_malformed_headers(timestamp: str, header: str | None) -> None:
    body = b'{"a":1}'
    signature = sign(SECRET, NOW, body) if header is None else header
    assert not verify_signature(SECRET, timestamp, body, signature, now=NOW)


def test_nothing_verifies_and_nothing_is_signed_with_an_empty_secret() -> None:
    with pytest.raises(WebhookConfigError):
        sign("", NOW, b"{}")
    assert not verify_signature("", NOW, b"{}", sign(SECRET, NOW, b"{}"), now=NOW)


def _client(handler: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(transport=handler)


def test_an_attempt_posts_the_signed_envelope_with_its_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with _client(httpx.MockTransport(handler)) as client:
        result = send(
            client, "http://subscriber/hook", EVENT, secret=SECRET, attempt=3, timestamp=NOW
        )

    assert result.status_code == 204 and result.error is None
    assert classify(result) is Outcome.DELIVERED
    (request,) = seen
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Channel-Topic"] == "orders/created"
    assert request.headers["X-Channel-Event-Id"] == str(EVENT.event_id)
    assert request.headers["X-Channel-Delivery-Attempt"] == "3"
    assert request.headers["X-Channel-Timestamp"] == str(NOW)
    assert request.content == encode_body(EVENT)
    assert verify_signature(
        SECRET,
        request.headers["X-Channel-Timestamp"],
        request.content,
        request.headers["X-Channel-Signature"],
        now=NOW,
    )


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (301, Outcome.RETRY),
        (400, Outcome.RETRY),
        (404, Outcome.RETRY),
        (410, Outcome.GONE),
        (429, Outcome.RETRY),
        (503, Outcome.RETRY),
    ],
)
def test_a_status_means_delivered_gone_or_retry(status: int, outcome: Outcome) -> None:
    with _client(httpx.MockTransport(lambda _r: httpx.Response(status))) as client:
        result = send(client, "http://s/h", EVENT, secret=SECRET, attempt=1, timestamp=NOW)
    assert result.status_code == status
    assert classify(result) is outcome
    assert (result.error is None) is (outcome is Outcome.DELIVERED)


def test_a_timeout_or_refused_connection_is_a_result_to_retry_not_an_exception() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with _client(httpx.MockTransport(handler)) as client:
        result = send(client, "http://s/h", EVENT, secret=SECRET, attempt=1, timestamp=NOW)
    assert result.status_code is None
    assert result.error == "ConnectError: [Errno 111] Connection refused"
    assert classify(result) is Outcome.RETRY
    assert "113-0000001" not in (result.error or "")


def test_retry_delays_grow_exponentially_with_jitter_up_to_a_cap() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 10.0), (2, 20.0), (3, 40.0), (30, RETRY_CAP_S)]:
        delays = [retry_delay(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1
