"""Platform events on the wire: the envelope, its signature, one HTTP attempt and what it means.

No SQL here (the relay reaches the store through a port), so a subscriber can import
``verify_signature`` alone. Payloads may hold buyer data: nothing in this module logs or records
a body, only ids, topics, status codes and exception types.

Errors::

    WebhookConfigError (ValueError)   no secret configured: we refuse to send unsigned events

An HTTP failure is not an exception here: ``send`` returns an ``AttemptResult`` and
``classify`` says whether it was delivered, must be retried, or the subscriber asked us to stop.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import httpx

SIGNATURE_PREFIX = "sha256="
USER_AGENT = "amazon-channel-webhooks/1"
# Exponential backoff between attempts of one delivery: 10 s, 20 s, 40 s, ... capped at one hour,
# so a subscriber that is down for a day still gets ~30 tries, the last one at the deadline.
RETRY_BASE_S = 10.0
RETRY_CAP_S = 3600.0
_MAX_ERROR_CHARS = 500


class WebhookConfigError(ValueError):
    """Sending is impossible as configured (no secret)."""


class Outcome(StrEnum):
    DELIVERED = "delivered"  # 2xx
    GONE = "gone"  # 410: the subscriber says stop; the delivery is dead, not retried
    RETRY = "retry"  # any other status, a timeout, a refused connection


@dataclass(frozen=True)
class WebhookEvent:
    """One event as it is sent. ``payload_json`` is the stored JSON text, embedded unparsed so
    numbers and strings reach the subscriber exactly as the producer wrote them."""

    event_id: uuid.UUID
    topic: str
    created_at: datetime
    payload_json: str


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None  # None when no response arrived
    error: str | None  # short, payload-free: "HTTP 503" or "ConnectError: ..."
    duration_ms: int


def encode_body(event: WebhookEvent) -> bytes:
    """The envelope ``{"id", "topic", "created_at", "data"}`` as the exact bytes we sign."""
    head = json.dumps(
        {
            "id": str(event.event_id),
            "topic": event.topic,
            "created_at": event.created_at.isoformat(),
        },
        separators=(",", ":"),
    )
    return f'{head[:-1]},"data":{event.payload_json}}}'.encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``.

    The timestamp is inside the signed message so a captured request cannot be replayed later:
    changing the timestamp breaks the signature, and a subscriber rejects stale timestamps
    (``verify_signature``'s tolerance). The event id then dedupes replays inside that window.
    """
    if not secret:
        raise WebhookConfigError("WEBHOOK_SECRET is empty: refusing to send unsigned events")
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes,
    signature_header: str,
    tolerance_s: float = 300,
    *,
    now: float | None = None,
) -> bool:
    """For subscribers: is this request from us, unaltered, and recent?

    Pass the raw request body (not re-serialised JSON), ``X-Channel-Timestamp`` and
    ``X-Channel-Signature``. The comparison is constant-time. ``now`` defaults to the local clock.
    """
    if not secret or not signature_header.startswith(SIGNATURE_PREFIX):
        return False
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    expected = sign(secret, sent_at, body)
    return hmac.compare_digest(expected.encode(), signature_header.strip().encode())


def request_headers(
    event: WebhookEvent, *, attempt: int, timestamp: int, signature: str
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Channel-Topic": event.topic,
        "X-Channel-Event-Id": str(event.event_id),
        "X-Channel-Delivery-Attempt": str(attempt),
        "X-Channel-Timestamp": str(timestamp),
        "X-Channel-Signature": signature,
    }


def send(
    client: httpx.Client,
    url: str,
    event: WebhookEvent,
    *,
    secret: str,
    attempt: int,
    timestamp: int,
) -> AttemptResult:
    """One POST. Never raises for the subscriber's failures: they are results to record.

    The response body is never read (``stream``): we only need the status, and a subscriber's
    body could be large or echo the payload back.
    """
    body = encode_body(event)
    headers = request_headers(
        event, attempt=attempt, timestamp=timestamp, signature=sign(secret, timestamp, body)
    )
    started = time.monotonic()
    try:
        with client.stream("POST", url, content=body, headers=headers) as response:
            status = response.status_code
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return AttemptResult(None, _describe(exc), _elapsed_ms(started))
    error = None if 200 <= status < 300 else f"HTTP {status}"
    return AttemptResult(status, error, _elapsed_ms(started))


def classify(result: AttemptResult) -> Outcome:
    if result.status_code is not None and 200 <= result.status_code < 300:
        return Outcome.DELIVERED
    if result.status_code == 410:
        return Outcome.GONE
    return Outcome.RETRY


def retry_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: exponential with equal jitter (half fixed, half
    random), so subscribers coming back are not hit by every delivery at the same instant."""
    ceiling = min(RETRY_CAP_S, RETRY_BASE_S * 2.0 ** max(0, attempt - 1))
    half = ceiling / 2
    return half + (rng.uniform(0, half) if rng is not None else random.uniform(0, half))


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(exc: BaseException) -> str:
    """The exception's type and message (httpx messages carry no body; URLs are not logged)."""
    return f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS]
