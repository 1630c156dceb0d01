"""What can go wrong talking to Amazon (SP-API and Login with Amazon), as one small tree.

The split that matters to callers is transient (try again later, the same request may succeed)
versus permanent (the same request will fail again; record the reason and stop)::

    AmazonError
     ├── AmazonTransientError          retry with backoff
     │    ├── Throttled                429 QuotaExceeded from Amazon
     │    │    └── RateLimitTimeout    our shared bucket cannot give a token within the timeout
     │    ├── AmazonServerError        5xx (500 InternalFailure, 503)
     │    └── AmazonUnreachable        connect error / timeout / dropped connection;
     │                                 ``request_sent`` says whether Amazon may have applied it
     └── AmazonPermanentError          never retry; other 4xx (409, 413, 415 ...) are raised as this
          ├── InvalidInput             400, with Amazon's code / message / details
          ├── AmazonNotFound           404
          ├── AmazonAuthError          401 / 403 and failures of the LWA token endpoint
          └── UnexpectedResponse       2xx whose body is not what Amazon's model promises

Transient errors also say whether the request may have taken effect (``maybe_applied``): never
for a 429 (Amazon refused it) or a request that never left; possibly for a 5xx or a response
lost after sending. A caller of a non-idempotent operation (``createFeed``) must treat
"maybe applied" as unknown and reconcile by reading Amazon's state, never by resending.

Every error carries ``operation`` (our key, e.g. ``"ordersV0.confirmShipment"``), ``status_code``,
``request_id`` (Amazon's ``x-amzn-RequestId``, what Amazon support asks for), ``code``,
``message`` and ``details``. None of them ever holds a token or a secret.

The exceptions pickle with all their fields (Celery moves exceptions between processes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx


class AmazonError(Exception):
    """Base of everything this package raises about Amazon."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
        details: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status_code = status_code
        self.request_id = request_id
        self.code = code
        self.details = details

    def _fields(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "status_code": self.status_code,
            "request_id": self.request_id,
            "code": self.code,
            "details": self.details,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments do not survive the default exception pickling.
        return (_rebuild, (type(self), self.message, self._fields()))

    def __str__(self) -> str:
        parts = [self.message]
        for name in ("operation", "status_code", "code", "request_id"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value}")
        return " | ".join(parts)


def _rebuild(cls: type[AmazonError], message: str, fields: dict[str, Any]) -> AmazonError:
    return cls(message, **fields)


class AmazonTransientError(AmazonError):
    """The same request may succeed later: throttling, Amazon's own failures, the network."""

    @property
    def maybe_applied(self) -> bool:
        """Whether Amazon may have carried the request out although we saw no success."""
        return False


class Throttled(AmazonTransientError):
    """Amazon's bucket was empty (429).

    ``retry_after_s`` is how long to wait when known: our bucket's estimate, for the subclass and
    for Amazon's 429 raised by a client with ``max_wait_s`` (our bucket, emptied by the 429, says
    when it holds a token again); ``None`` for a 429 after a patient client's own retries (Amazon
    sends no ``Retry-After``, so the caller backs off).
    """

    def __init__(self, message: str, *, retry_after_s: float | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.retry_after_s = retry_after_s

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "retry_after_s": self.retry_after_s}


class RateLimitTimeout(Throttled):
    """Our own (shared) bucket for this seller and operation cannot give a token in time.

    Nothing was sent to Amazon. ``retry_after_s`` is the bucket's estimate of when a token will
    be free; a task should come back then instead of holding a worker while it waits.
    """


class AmazonServerError(AmazonTransientError):
    """Amazon answered 5xx. It received the request, so its effect is unknown."""

    @property
    def maybe_applied(self) -> bool:
        return True


class AmazonUnreachable(AmazonTransientError):
    """No usable answer came back: connect error, timeout, or the connection dropped.

    ``request_sent`` is False only when we know the request never left (connect failed, no
    connection from the pool); True means Amazon may have received and applied it ("maybe
    applied"), so a non-idempotent call must be reconciled by reading Amazon's state, not resent.
    """

    def __init__(self, message: str, *, request_sent: bool, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.request_sent = request_sent

    @property
    def maybe_applied(self) -> bool:
        return self.request_sent

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "request_sent": self.request_sent}


class AmazonPermanentError(AmazonError):
    """Sending the same request again will fail the same way."""


class InvalidInput(AmazonPermanentError):
    """400: Amazon rejected what we sent; ``code`` / ``message`` / ``details`` say why."""


class AmazonNotFound(AmazonPermanentError):
    """404: no such order, feed or document (for this seller)."""


class AmazonAuthError(AmazonPermanentError):
    """401/403, or Login with Amazon refused the credentials (revoked or wrong refresh token)."""


class UnexpectedResponse(AmazonPermanentError):
    """Amazon answered 2xx with a body we cannot read as its model says (asking again won't)."""


def json_object(
    operation: str, response: httpx.Response, parse_float: Callable[[str], Any] = float
) -> dict[str, Any]:
    """A successful answer's body as a JSON object (its numbers with a fraction read by
    ``parse_float``: ``Decimal`` for money); anything else is ``UnexpectedResponse``."""
    try:
        body = json.loads(response.content, parse_float=parse_float)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise UnexpectedResponse(
            "response body is not a JSON object",
            operation=operation,
            status_code=response.status_code,
            request_id=response.headers.get("x-amzn-RequestId"),
        )
    return body
