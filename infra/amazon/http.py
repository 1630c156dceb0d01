"""The one request path to SP-API: auth headers, the shared rate budget, Amazon's errors as our
tree, a log line per attempt, and the decision to send again or raise.

Each call takes a token from the seller's rate budget (``ratelimit``), carries a Login with Amazon
access token (``lwa``), and is retried or not by one policy (``RetryPolicy``):

- 429: Amazon's bucket is empty. Ours is emptied too (so every process waits a refill), then the
  call is retried after exponential backoff with full jitter, capped.
- 5xx and a response lost after sending (read timeout, connection dropped): retried only for
  idempotent operations, i.e. every GET, ``confirmShipment`` (a resend with the same
  ``packageReferenceId`` edits the same package) and ``createFeedDocument`` (a spare empty
  document does no harm). For the others (``createFeed``) the request may have taken effect, so
  the error is raised at once (``maybe_applied`` is True) and the caller reconciles by reading
  Amazon's state; a blind resend could submit a refund twice.
- Connection failures before the request left (connect error or timeout, no pooled
  connection): retried for every operation.
- 401/403: the access token is dropped and fetched again, once; a second refusal is an
  ``AmazonAuthError``.
- 400, 404 and other 4xx: never retried (``InvalidInput``, ``AmazonNotFound``,
  ``AmazonPermanentError``).

That is the patient policy, for the CLI's backfill and the benchmarks. A worker slot must not sit
in backoff sleeps, so with ``max_wait_s`` set the transport waits at most that long for a budget
token (else ``RateLimitTimeout``), never sleeps between attempts, and hands transient errors back
at once for the task to be retried with a countdown: a 429 as ``Throttled`` whose
``retry_after_s`` is the bucket's estimate after emptying it, a 5xx or lost response as is. Only a
request known not to have left (a failed connect) is sent again, once, at once. Throttling is
normal there, so nothing is logged above INFO.

In a leased attempt (``infra.amazon.fence``) each request first renews the lease (nothing is sent
when it was taken over) and is bounded by the fence's timeout.

Each attempt is logged with the operation, status, Amazon's request id, attempt and waits; never
tokens, secrets or buyer data.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from infra.amazon.errors import (
    AmazonAuthError,
    AmazonError,
    AmazonNotFound,
    AmazonPermanentError,
    AmazonServerError,
    AmazonTransientError,
    AmazonUnreachable,
    InvalidInput,
    RateLimitTimeout,
    Throttled,
    json_object,
)
from infra.amazon.fence import current as current_fence
from infra.amazon.lwa import LwaTokenProvider
from infra.amazon.models import operations
from infra.amazon.observed import CallAttempt, CallObserver, notify
from infra.amazon.ratelimit import RateLimiter

log = logging.getLogger(__name__)

USER_AGENT = "amazon-channel/0.1 (Language=Python)"

# Writes that are safe to send twice (see the module docstring). Every GET is idempotent too.
IDEMPOTENT_WRITES = frozenset({"ordersV0.confirmShipment", "feeds.createFeedDocument"})


@dataclass(frozen=True, slots=True)
class MeteredAttempt:
    """One attempt as the metrics see it (``call_observers``; the per-order record has its own,
    ``observed.CallAttempt``, on each transport's ``observers``): ``status`` None when no
    answer came (``error`` then names the transport's exception); seconds waited for a budget
    token and spent on the wire."""

    operation: str
    status: int | None
    error: str | None
    waited_s: float
    elapsed_s: float


# Called with every attempt (the metrics of ``infra.metrics``); an observer that raises is
# logged and skipped, never the call's problem.
call_observers: list[Callable[[MeteredAttempt], None]] = []


def _notify(attempt: MeteredAttempt) -> None:
    for observer in list(call_observers):
        try:
            observer(attempt)
        except Exception as exc:  # noqa: BLE001 (an observer never breaks a call)
            log.debug("call observer failed: %s", exc)


# Transport errors raised before any byte of the request left: safe to retry for anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True, slots=True)
class SpApiRequest:
    """One logical request; retries send it again unchanged (apart from auth headers)."""

    operation: str
    method: str
    url: str  # with the query string, if any
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool = True
    spapi: bool = True  # False: a presigned S3 URL, no token and no rate budget
    patient: bool = True  # False: a token only if one is free now, and a single attempt
    order_ids: tuple[str, ...] = ()  # the Amazon orders it names, for the observers


@dataclass(slots=True)
class RetryPolicy:
    """When a failed attempt is sent again, and after how long (see the module docstring).

    ``max_wait_s`` None is the patient policy; a number bounds every wait of a call by it.
    """

    max_attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_wait_s: float | None = None
    rng: random.Random = field(default_factory=random.Random)  # jitter, not cryptography

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.max_wait_s is not None and self.max_wait_s < 0:
            raise ValueError("max_wait_s must be >= 0 (or None to wait as long as it takes)")

    @property
    def bounded(self) -> bool:
        return self.max_wait_s is not None

    def token_timeout(self, request: SpApiRequest) -> float | None:
        """How long to wait for a budget token; None: the limiter's own (long) default."""
        return 0.0 if not request.patient else self.max_wait_s

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))
        return self.rng.uniform(0, ceiling)

    def delay(
        self,
        request: SpApiRequest,
        error: AmazonError,
        attempt: int,
        *,
        reached_amazon: bool,
        resent_unsent: bool,
    ) -> float | None:
        """Seconds to wait before sending ``request`` again, or None: raise ``error``.

        ``reached_amazon``: the request may have taken effect (a 5xx, a response lost after
        sending), not merely been refused (429) or never left (connect error, token endpoint
        failure). ``resent_unsent``: the one immediate resend of the bounded policy is spent.
        """
        if isinstance(error, AmazonPermanentError):
            return None
        if reached_amazon and not request.idempotent:
            return None
        if attempt >= self.max_attempts or not request.patient:
            return None
        if self.bounded:
            never_left = isinstance(error, AmazonUnreachable) and not error.request_sent
            return 0.0 if never_left and not resent_unsent else None
        return self.backoff(attempt)


class SpApiTransport:
    """Sends ``SpApiRequest`` for one seller (``seller_key`` names its rate budget)."""

    def __init__(
        self,
        endpoint: str,
        seller_key: str,
        tokens: LwaTokenProvider,
        limiter: RateLimiter,
        http: httpx.Client,
        retry: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.seller_key = seller_key
        self.tokens = tokens
        self.limiter = limiter
        self.http = http
        self.retry = retry
        self._sleep = sleep
        self._now = now
        # Told of every attempt (``infra.amazon.observed``): the store's record of calls.
        self.observers: list[CallObserver] = []

    def __repr__(self) -> str:
        return f"SpApiTransport(endpoint={self.endpoint!r}, seller_key={self.seller_key!r})"

    def call(
        self,
        operation: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str | None] | None = None,
        json: Any = None,
        patient: bool = True,
    ) -> httpx.Response:
        """Call an operation of Amazon's models by key; method and path come from the model."""
        spec = operations()[operation]
        path = spec.path
        for name, value in (path_params or {}).items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        url = f"{self.endpoint}{path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if query:
            # The same bytes as httpx's ``params=`` (it urlencodes them too), but httpx then
            # parses the URL once instead of twice; URL parsing is a good part of a call's CPU.
            url = f"{url}?{urlencode(query)}"
        return self.send(
            SpApiRequest(
                operation=operation,
                method=spec.method,
                url=url,
                json=json,
                idempotent=spec.method == "GET" or operation in IDEMPOTENT_WRITES,
                patient=patient,
                order_ids=(named,) if (named := (path_params or {}).get("orderId")) else (),
            )
        )

    def call_json(
        self,
        operation: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str | None] | None = None,
        json: Any = None,
        patient: bool = True,
    ) -> dict[str, Any]:
        """``call``, and the body as a JSON object (anything else is ``UnexpectedResponse``)."""
        response = self.call(
            operation, path_params=path_params, params=params, json=json, patient=patient
        )
        return json_object(operation, response)

    def send(self, request: SpApiRequest) -> httpx.Response:
        """Send until a success, or raise the error the policy does not retry."""
        refreshed_token = False
        resent_unsent = False
        attempt = 0
        while True:
            attempt += 1
            waited = 0.0
            token: str | None = None
            cause: Exception | None = None
            reached_amazon = False
            started = time.monotonic()
            try:
                if request.spapi:
                    waited = self.limiter.acquire(
                        self.seller_key, request.operation, self.retry.token_timeout(request)
                    )
                    token = self.tokens.access_token()
                fence = current_fence()  # a leased attempt's: its lease renewed, or LeaseLost
                response = self.http.request(
                    request.method,
                    request.url,
                    json=request.json,
                    content=request.content,
                    headers=self._headers(request, token),
                    timeout=httpx.USE_CLIENT_DEFAULT if fence is None else fence.ready(),
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                error: AmazonError = AmazonUnreachable(
                    f"{request.operation}: {type(exc).__name__}",
                    operation=request.operation,
                    request_sent=sent,
                )
                cause, reached_amazon = exc, sent
                self._log(request, attempt, None, None, waited, started, type(exc).__name__)
                self._observe(request, attempt, waited, started, None, None, error)
            except RateLimitTimeout:
                raise  # our own budget: nothing was sent, the caller reschedules
            except AmazonTransientError as exc:  # from the token endpoint (LWA 429/5xx/network)
                error = exc
                self._log(request, attempt, None, None, waited, started, type(exc).__name__)
                self._observe(request, attempt, waited, started, None, None, error)
            else:
                request_id = response.headers.get("x-amzn-RequestId")
                self._log(request, attempt, response.status_code, request_id, waited, started)
                if request.spapi:
                    self.limiter.observe_rate_limit_header(
                        self.seller_key,
                        request.operation,
                        response.headers.get("x-amzn-RateLimit-Limit"),
                    )
                if response.is_success:
                    self._observe(
                        request, attempt, waited, started, response.status_code, request_id
                    )
                    return response
                error = error_for(request.operation, response)
                self._observe(
                    request, attempt, waited, started, response.status_code, request_id, error
                )
                if response.status_code in (401, 403) and request.spapi and not refreshed_token:
                    # An expired or revoked token: fetch a new one and try once more, at once.
                    refreshed_token = True
                    self.tokens.invalidate(token)
                    continue
                if isinstance(error, Throttled) and request.spapi:
                    estimate = self.limiter.on_throttled(self.seller_key, request.operation)
                    if self.retry.bounded:
                        error.retry_after_s = estimate
                reached_amazon = isinstance(error, AmazonTransientError) and error.maybe_applied
            delay = self.retry.delay(
                request,
                error,
                attempt,
                reached_amazon=reached_amazon,
                resent_unsent=resent_unsent,
            )
            if delay is None:
                if self.retry.bounded and isinstance(error, AmazonTransientError):
                    self._log_handed_back(request, attempt, error)
                raise error from cause
            if self.retry.bounded:
                resent_unsent = True
            self._log_retry(request, attempt, error, delay)
            if delay > 0:
                self._sleep(delay)

    def _observe(
        self,
        request: SpApiRequest,
        attempt: int,
        waited: float,
        started: float,
        status: int | None,
        request_id: str | None,
        error: AmazonError | None = None,
    ) -> None:
        if not self.observers:
            return
        elapsed_s = time.monotonic() - started - waited
        code = (error.code or type(error).__name__) if error is not None else None
        notify(
            self.observers,
            CallAttempt(
                operation=request.operation,
                method=request.method,
                order_ids=request.order_ids,
                attempt=attempt,
                started_at=self._now() - timedelta(seconds=elapsed_s),
                elapsed_ms=round(elapsed_s * 1000, 1),
                status=status,
                request_id=request_id,
                error_code=code,
                error=error.message if error is not None else None,
            ),
        )

    def _headers(self, request: SpApiRequest, access_token: str | None) -> dict[str, str]:
        headers = {"user-agent": USER_AGENT, **request.headers}
        if request.spapi:
            headers["accept"] = "application/json"
            headers["x-amz-date"] = self._now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            if access_token is not None:
                headers["x-amz-access-token"] = access_token
        return headers

    def _log(
        self,
        request: SpApiRequest,
        attempt: int,
        status: int | None,
        request_id: str | None,
        waited: float,
        started: float,
        error: str | None = None,
    ) -> None:
        elapsed = time.monotonic() - started - waited
        if call_observers:
            _notify(MeteredAttempt(request.operation, status, error, waited, elapsed))
        if not log.isEnabledFor(logging.INFO):
            return
        log.info(
            "spapi call",
            extra={
                "operation": request.operation,
                "method": request.method,
                "status": status,
                "request_id": request_id,
                "attempt": attempt,
                "wait_s": round(waited, 3),
                "elapsed_ms": round(elapsed * 1000, 1),
                "error": error,
            },
        )

    def _log_retry(
        self, request: SpApiRequest, attempt: int, error: AmazonError, delay: float
    ) -> None:
        # A patient caller sleeping in backoff is worth a warning; a bounded one never sleeps.
        level = logging.INFO if self.retry.bounded else logging.WARNING
        log.log(
            level,
            "spapi call will be retried",
            extra={
                "operation": request.operation,
                "attempt": attempt,
                "error": type(error).__name__,
                "status": error.status_code,
                "request_id": error.request_id,
                "backoff_s": round(delay, 3),
            },
        )

    def _log_handed_back(
        self, request: SpApiRequest, attempt: int, error: AmazonTransientError
    ) -> None:
        log.info(
            "spapi call handed back to be retried later",
            extra={
                "operation": request.operation,
                "attempt": attempt,
                "error": type(error).__name__,
                "status": error.status_code,
                "request_id": error.request_id,
                "retry_after_s": getattr(error, "retry_after_s", None),
            },
        )


def error_for(operation: str, response: httpx.Response) -> AmazonError:
    """Amazon's ``{"errors": [{code, message, details}]}`` as the matching exception."""
    code: str | None = None
    message: str | None = None
    details: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        errors = [e for e in body["errors"] if isinstance(e, dict)]
        if errors:
            code = _opt_str(errors[0].get("code"))
            message = "; ".join(m for e in errors if (m := _opt_str(e.get("message"))))
            details = _opt_str(errors[0].get("details")) or None
    status = response.status_code
    fields: dict[str, Any] = {
        "operation": operation,
        "status_code": status,
        "request_id": response.headers.get("x-amzn-RequestId"),
        "code": code,
        "details": details,
    }
    text = message or response.reason_phrase or f"HTTP {status}"
    if status == 429:
        return Throttled(text, **fields)
    if status >= 500:
        return AmazonServerError(text, **fields)
    if status == 400:
        return InvalidInput(text, **fields)
    if status == 404:
        return AmazonNotFound(text, **fields)
    if status in (401, 403):
        return AmazonAuthError(text, **fields)
    return AmazonPermanentError(text, **fields)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
