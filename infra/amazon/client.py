"""The SP-API client: one seller, one HTTP connection pool, Amazon's rules applied on every call.

Each call takes a token from the shared rate budget (``ratelimit``), carries a Login with Amazon
access token (``lwa``), and is retried or not by one policy:

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

HTTP methods and paths come from Amazon's models (``infra.amazon.models``), like the rates.
Responses are validated into ``schemas`` here, at the edge. Each call is logged with the
operation, status, Amazon's request id, attempt and waits; never tokens, secrets or buyer data.
"""

from __future__ import annotations

import gzip
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
import redis
from pydantic import BaseModel, ValidationError

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
    UnexpectedResponse,
)
from infra.amazon.lwa import LwaCredentials, LwaTokenProvider
from infra.amazon.models import operations
from infra.amazon.ratelimit import (
    InProcessRateLimiter,
    NoRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from infra.amazon.schemas import (
    GetOrderItemsV0Payload,
    GetOrderResponse,
    GetOrdersV0Payload,
    Order,
    OrderItemV0,
    SearchOrdersResponse,
)
from infra.settings import Settings

log = logging.getLogger(__name__)

_M = TypeVar("_M", bound=BaseModel)

USER_AGENT = "amazon-channel/0.1 (Language=Python)"

# Writes that are safe to send twice (see the module docstring). Every GET is idempotent too.
IDEMPOTENT_WRITES = frozenset({"ordersV0.confirmShipment", "feeds.createFeedDocument"})

# Transport errors raised before any byte of the request left: safe to retry for anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)

# Pseudo-operations for the presigned S3 transfers (no SP-API auth, no rate budget).
UPLOAD_OPERATION = "feeds.uploadFeedDocument"
DOWNLOAD_OPERATION = "documents.download"

_GZIP_MAGIC = b"\x1f\x8b"


def _format_time(value: datetime) -> str:
    """ISO 8601 UTC with a ``Z``; a naive datetime is refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _csv(values: Sequence[str] | None) -> str | None:
    # SP-API arrays in a query string are comma-separated (Swagger 2 ``collectionFormat: csv``).
    if not values:
        return None
    return ",".join(values)


@dataclass(frozen=True, slots=True)
class _Call:
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


class SpApiClient:
    """SP-API for one seller (``seller_key`` names the seller's rate budget, e.g. id + region).

    The client owns ``http`` from here on: ``close()`` closes it. Reuse one client per seller
    per process so connections and the access token are reused.
    """

    def __init__(
        self,
        endpoint: str,
        seller_key: str,
        tokens: LwaTokenProvider,
        limiter: RateLimiter,
        http: httpx.Client,
        max_attempts: int = 6,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.endpoint = endpoint.rstrip("/")
        self.seller_key = seller_key
        self.tokens = tokens
        self.limiter = limiter
        self.http = http
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self._sleep = sleep
        self._rng = rng or random.Random()  # jitter, not cryptography
        self._now = now

    def __repr__(self) -> str:
        return f"SpApiClient(endpoint={self.endpoint!r}, seller_key={self.seller_key!r})"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SpApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- Orders v2026-01-01 ------------------------------------------------------------------

    def search_orders_raw(
        self,
        *,
        last_updated_after: datetime | None = None,
        created_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        created_before: datetime | None = None,
        marketplace_ids: Sequence[str] | None = None,
        fulfillment_statuses: Sequence[str] | None = None,
        fulfilled_by: Sequence[str] | None = None,
        included_data: Sequence[str] = (),
        max_results: int = 100,
        pagination_token: str | None = None,
    ) -> dict[str, Any]:
        """One ``searchOrders`` page as Amazon's JSON (for callers that translate it themselves).

        Without a token exactly one of ``created_after`` / ``last_updated_after`` is required and
        the Created* and LastUpdated* pairs cannot be mixed (Amazon's rules, checked here so a
        mistake costs no call from a 1-per-3-minutes budget). With a token, Amazon's model asks
        for the same filters as the first page (only ``maxResultsPerPage`` and ``includedData``
        may change): whatever filters are given are sent along with it, none are required.
        """
        if not 1 <= max_results <= 100:
            raise ValueError("max_results must be between 1 and 100")
        created = created_after is not None or created_before is not None
        updated = last_updated_after is not None or last_updated_before is not None
        if created and updated:
            raise ValueError("created_* and last_updated_* filters cannot be combined")
        if pagination_token is None and (created_after is None) == (last_updated_after is None):
            raise ValueError("exactly one of created_after and last_updated_after is required")
        params: dict[str, str | None] = {
            "createdAfter": _format_time(created_after) if created_after else None,
            "createdBefore": _format_time(created_before) if created_before else None,
            "lastUpdatedAfter": _format_time(last_updated_after) if last_updated_after else None,
            "lastUpdatedBefore": (
                _format_time(last_updated_before) if last_updated_before else None
            ),
            "marketplaceIds": _csv(marketplace_ids),
            "fulfillmentStatuses": _csv(fulfillment_statuses),
            "fulfilledBy": _csv(fulfilled_by),
            "includedData": _csv(included_data),
            "maxResultsPerPage": str(max_results),
            "paginationToken": pagination_token,
        }
        return self._call_json("orders2026.searchOrders", params=params)

    def search_orders(
        self,
        *,
        last_updated_after: datetime | None = None,
        created_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        created_before: datetime | None = None,
        marketplace_ids: Sequence[str] | None = None,
        fulfillment_statuses: Sequence[str] | None = None,
        fulfilled_by: Sequence[str] | None = None,
        included_data: Sequence[str] = (),
        max_results: int = 100,
        pagination_token: str | None = None,
    ) -> SearchOrdersResponse:
        """One ``searchOrders`` page, validated; orders that do not parse are set aside in it."""
        body = self.search_orders_raw(
            last_updated_after=last_updated_after,
            created_after=created_after,
            last_updated_before=last_updated_before,
            created_before=created_before,
            marketplace_ids=marketplace_ids,
            fulfillment_statuses=fulfillment_statuses,
            fulfilled_by=fulfilled_by,
            included_data=included_data,
            max_results=max_results,
            pagination_token=pagination_token,
        )
        return _parse(SearchOrdersResponse, body, "orders2026.searchOrders")

    def iter_search_orders(
        self,
        *,
        last_updated_after: datetime | None = None,
        created_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        created_before: datetime | None = None,
        marketplace_ids: Sequence[str] | None = None,
        fulfillment_statuses: Sequence[str] | None = None,
        fulfilled_by: Sequence[str] | None = None,
        included_data: Sequence[str] = (),
        max_results: int = 100,
    ) -> Iterator[SearchOrdersResponse]:
        """Every page of one search, the same filters sent with each token (as Amazon asks)."""
        token: str | None = None
        while True:
            page = self.search_orders(
                last_updated_after=last_updated_after,
                created_after=created_after,
                last_updated_before=last_updated_before,
                created_before=created_before,
                marketplace_ids=marketplace_ids,
                fulfillment_statuses=fulfillment_statuses,
                fulfilled_by=fulfilled_by,
                included_data=included_data,
                max_results=max_results,
                pagination_token=token,
            )
            yield page
            token = page.next_token
            if token is None:
                return

    def get_order(
        self, order_id: str, included_data: Sequence[str] = (), *, patient: bool = True
    ) -> Order:
        """One order with its items (always included in this version of the API).

        ``patient=False`` is for a read that can come later: it takes a token only if the
        budget has one free now (``RateLimitTimeout`` otherwise, nothing sent) and makes one
        attempt, raising a transient error instead of backing off and retrying."""
        body = self._call_json(
            "orders2026.getOrder",
            path_params={"orderId": order_id},
            params={"includedData": _csv(included_data)},
            patient=patient,
        )
        return _parse(GetOrderResponse, body, "orders2026.getOrder").order

    # -- Orders v0 (deprecated reads; confirmShipment lives only here) -------------------------

    def get_orders_v0(
        self,
        *,
        marketplace_ids: Sequence[str],
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        last_updated_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        order_statuses: Sequence[str] | None = None,
        fulfillment_channels: Sequence[str] | None = None,
        amazon_order_ids: Sequence[str] | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> GetOrdersV0Payload:
        """One ``getOrders`` page (``MarketplaceIds`` is required, also with ``NextToken``)."""
        if not marketplace_ids:
            raise ValueError("marketplace_ids is required")
        if not 1 <= max_results <= 100:
            raise ValueError("max_results must be between 1 and 100")
        no_window = (created_after is None) == (last_updated_after is None)
        if next_token is None and not amazon_order_ids and no_window:
            raise ValueError("exactly one of created_after and last_updated_after is required")
        params: dict[str, str | None] = {
            "MarketplaceIds": _csv(marketplace_ids),
            "CreatedAfter": _format_time(created_after) if created_after else None,
            "CreatedBefore": _format_time(created_before) if created_before else None,
            "LastUpdatedAfter": _format_time(last_updated_after) if last_updated_after else None,
            "LastUpdatedBefore": (
                _format_time(last_updated_before) if last_updated_before else None
            ),
            "OrderStatuses": _csv(order_statuses),
            "FulfillmentChannels": _csv(fulfillment_channels),
            "AmazonOrderIds": _csv(amazon_order_ids),
            "MaxResultsPerPage": str(max_results),
            "NextToken": next_token,
        }
        body = self._call_json("ordersV0.getOrders", params=params)
        return _parse(
            GetOrdersV0Payload, _payload(body, "ordersV0.getOrders"), "ordersV0.getOrders"
        )

    def get_order_items_v0(self, order_id: str) -> GetOrderItemsV0Payload:
        """All items of a v0 order, following ``NextToken`` (the result has no token left)."""
        items: list[OrderItemV0] = []
        token: str | None = None
        while True:
            body = self._call_json(
                "ordersV0.getOrderItems",
                path_params={"orderId": order_id},
                params={"NextToken": token},
            )
            page = _parse(
                GetOrderItemsV0Payload,
                _payload(body, "ordersV0.getOrderItems"),
                "ordersV0.getOrderItems",
            )
            items.extend(page.order_items)
            token = page.next_token
            if not token:
                return page.model_copy(update={"order_items": items, "next_token": None})

    def confirm_shipment(
        self, order_id: str, marketplace_id: str, package_detail: Mapping[str, Any]
    ) -> None:
        """Confirm one package (204). Safe to resend: the same ``packageReferenceId`` edits it."""
        self._call(
            "ordersV0.confirmShipment",
            path_params={"orderId": order_id},
            json={"marketplaceId": marketplace_id, "packageDetail": dict(package_detail)},
        )

    # -- Feeds 2021-06-30 --------------------------------------------------------------------

    def create_feed_document(self, content_type: str) -> tuple[str, str]:
        """Reserve a feed document: ``(feed_document_id, presigned upload url)``."""
        body = self._call_json("feeds.createFeedDocument", json={"contentType": content_type})
        return (
            _required_str(body, "feedDocumentId", "feeds.createFeedDocument"),
            _required_str(body, "url", "feeds.createFeedDocument"),
        )

    def upload_feed_document(self, url: str, content: bytes, content_type: str) -> None:
        """PUT the document to the presigned URL: no SP-API token, no rate budget.

        The upload's Content-Type must equal the one given to ``create_feed_document``. A PUT of
        the same bytes is idempotent, so it is retried like a GET.
        """
        self._send(
            _Call(
                operation=UPLOAD_OPERATION,
                method="PUT",
                url=url,
                content=content,
                headers={"content-type": content_type},
                spapi=False,
            )
        )

    def create_feed(
        self,
        feed_type: str,
        marketplace_ids: Sequence[str],
        input_feed_document_id: str,
        feed_options: Mapping[str, str] | None = None,
    ) -> str:
        """Submit a feed (202) and return its id. Not idempotent: never resent blindly.

        A 5xx or a lost response raises with ``maybe_applied`` True; the caller must look the
        feed up (``getFeeds`` by type and time) before submitting again.
        """
        payload: dict[str, Any] = {
            "feedType": feed_type,
            "marketplaceIds": list(marketplace_ids),
            "inputFeedDocumentId": input_feed_document_id,
        }
        if feed_options:
            payload["feedOptions"] = dict(feed_options)
        body = self._call_json("feeds.createFeed", json=payload)
        return _required_str(body, "feedId", "feeds.createFeed")

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        """The feed's status: ``processingStatus``, ``resultFeedDocumentId`` when done, ..."""
        return self._call_json("feeds.getFeed", path_params={"feedId": feed_id})

    def get_feed_document(self, document_id: str) -> tuple[str, str | None]:
        """Where to download a (result) feed document: ``(url, compressionAlgorithm)``."""
        body = self._call_json("feeds.getFeedDocument", path_params={"feedDocumentId": document_id})
        return _document_location(body, "feeds.getFeedDocument")

    # -- Reports 2021-06-30 (settlement reports are listed, never requested) --------------------

    def get_reports(
        self,
        *,
        report_types: Sequence[str] | None = None,
        processing_statuses: Sequence[str] | None = None,
        marketplace_ids: Sequence[str] | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        page_size: int = 100,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """One page of ``getReports``. With ``next_token`` Amazon wants nothing else sent."""
        params: dict[str, str | None]
        if next_token is not None:
            params = {"nextToken": next_token}
        else:
            if not report_types:
                raise ValueError("report_types is required unless next_token is given")
            params = {
                "reportTypes": _csv(report_types),
                "processingStatuses": _csv(processing_statuses),
                "marketplaceIds": _csv(marketplace_ids),
                "createdSince": _format_time(created_since) if created_since else None,
                "createdUntil": _format_time(created_until) if created_until else None,
                "pageSize": str(page_size),
            }
        return self._call_json("reports.getReports", params=params)

    def get_report_document(self, document_id: str) -> tuple[str, str | None]:
        body = self._call_json(
            "reports.getReportDocument", path_params={"reportDocumentId": document_id}
        )
        return _document_location(body, "reports.getReportDocument")

    def download_document(self, url: str, compression: str | None) -> bytes:
        """Fetch a presigned document URL; gunzip when Amazon said GZIP.

        When the URL serves ``Content-Encoding: gzip`` httpx has already decoded the body, so
        only bytes that still start with the gzip magic number are decompressed.
        """
        response = self._send(
            _Call(operation=DOWNLOAD_OPERATION, method="GET", url=url, spapi=False)
        )
        data = response.content
        if compression is not None and compression.upper() == "GZIP" and data[:2] == _GZIP_MAGIC:
            return gzip.decompress(data)
        return data

    # -- the one request path ----------------------------------------------------------------

    def _call(
        self,
        operation: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str | None] | None = None,
        json: Any = None,
        patient: bool = True,
    ) -> httpx.Response:
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
        return self._send(
            _Call(
                operation=operation,
                method=spec.method,
                url=url,
                json=json,
                idempotent=spec.method == "GET" or operation in IDEMPOTENT_WRITES,
                patient=patient,
            )
        )

    def _headers(self, call: _Call, access_token: str | None) -> dict[str, str]:
        headers = {"user-agent": USER_AGENT, **call.headers}
        if call.spapi:
            headers["accept"] = "application/json"
            headers["x-amz-date"] = self._now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            if access_token is not None:
                headers["x-amz-access-token"] = access_token
        return headers

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    def _send(self, call: _Call) -> httpx.Response:
        refreshed_token = False
        attempt = 0
        while True:
            attempt += 1
            waited = 0.0
            token: str | None = None
            started = time.monotonic()
            try:
                if call.spapi:
                    waited = self.limiter.acquire(
                        self.seller_key, call.operation, None if call.patient else 0.0
                    )
                    token = self.tokens.access_token()
                response = self.http.request(
                    call.method,
                    call.url,
                    json=call.json,
                    content=call.content,
                    headers=self._headers(call, token),
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                error: AmazonError = AmazonUnreachable(
                    f"{call.operation}: {type(exc).__name__}",
                    operation=call.operation,
                    request_sent=sent,
                )
                self._log(call, attempt, None, None, waited, started, error=type(exc).__name__)
                if sent and not call.idempotent:
                    raise error from exc
            except RateLimitTimeout:
                raise  # our own budget: nothing was sent, the caller reschedules
            except AmazonTransientError as exc:  # from the token endpoint (LWA 429/5xx/network)
                error = exc
                self._log(call, attempt, None, None, waited, started, error=type(exc).__name__)
            else:
                request_id = response.headers.get("x-amzn-RequestId")
                self._log(call, attempt, response.status_code, request_id, waited, started)
                if call.spapi:
                    self.limiter.observe_rate_limit_header(
                        self.seller_key,
                        call.operation,
                        response.headers.get("x-amzn-RateLimit-Limit"),
                    )
                if response.is_success:
                    return response
                error = _error_for(call.operation, response)
                if response.status_code in (401, 403) and call.spapi and not refreshed_token:
                    # An expired or revoked token: fetch a new one and try once more, at once.
                    refreshed_token = True
                    self.tokens.invalidate(token)
                    continue
                if isinstance(error, Throttled) and call.spapi:
                    self.limiter.on_throttled(self.seller_key, call.operation)
                if isinstance(error, AmazonPermanentError):
                    raise error
                if isinstance(error, AmazonServerError) and not call.idempotent:
                    raise error
            if attempt >= self.max_attempts or not call.patient:
                raise error
            delay = self._backoff(attempt)
            log.warning(
                "spapi call will be retried",
                extra={
                    "operation": call.operation,
                    "attempt": attempt,
                    "error": type(error).__name__,
                    "status": error.status_code,
                    "request_id": error.request_id,
                    "backoff_s": round(delay, 3),
                },
            )
            self._sleep(delay)

    def _log(
        self,
        call: _Call,
        attempt: int,
        status: int | None,
        request_id: str | None,
        waited: float,
        started: float,
        error: str | None = None,
    ) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        log.info(
            "spapi call",
            extra={
                "operation": call.operation,
                "method": call.method,
                "status": status,
                "request_id": request_id,
                "attempt": attempt,
                "wait_s": round(waited, 3),
                "elapsed_ms": round((time.monotonic() - started - waited) * 1000, 1),
                "error": error,
            },
        )

    def _call_json(
        self,
        operation: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str | None] | None = None,
        json: Any = None,
        patient: bool = True,
    ) -> dict[str, Any]:
        response = self._call(
            operation, path_params=path_params, params=params, json=json, patient=patient
        )
        try:
            body = response.json()
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


def _error_for(operation: str, response: httpx.Response) -> AmazonError:
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


def _parse(model: type[_M], body: Any, operation: str) -> _M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise UnexpectedResponse(
            f"response does not match {model.__name__}: {exc.error_count()} error(s)",
            operation=operation,
        ) from None


def _payload(body: dict[str, Any], operation: str) -> Any:
    """Orders v0 wraps results in ``payload`` (and may put ``errors`` beside it)."""
    payload = body.get("payload")
    if payload is None:
        raise UnexpectedResponse("v0 response has no payload", operation=operation)
    return payload


def _required_str(body: Mapping[str, Any], key: str, operation: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise UnexpectedResponse(f"response has no {key}", operation=operation)
    return value


def _document_location(body: Mapping[str, Any], operation: str) -> tuple[str, str | None]:
    compression = body.get("compressionAlgorithm")
    return _required_str(body, "url", operation), (
        compression if isinstance(compression, str) else None
    )


def build_client(
    settings: Settings,
    seller_key: str,
    credentials: LwaCredentials,
    redis_client: redis.Redis | None = None,
) -> SpApiClient:
    """A client for one seller, configured from settings only (region or sandbox endpoint).

    With Redis the rate budget and the access token are shared by every process; without it
    (one-off tools) both are kept in this process. Against the sandbox the bucket is scaled by
    ``sandbox_rate_factor`` like the sandbox's own, and a factor of 0 (limits lifted) turns the
    client-side limiter off.
    """
    http = httpx.Client(
        timeout=httpx.Timeout(settings.http_read_timeout, connect=settings.http_connect_timeout),
        follow_redirects=False,
    )
    rate_factor = settings.sandbox_rate_factor if settings.uses_sandbox() else 1.0
    limiter: RateLimiter
    if rate_factor == 0:
        limiter = NoRateLimiter()
    elif redis_client is not None:
        limiter = RedisRateLimiter(
            redis_client, safety=settings.rate_safety, rate_factor=rate_factor
        )
    else:
        limiter = InProcessRateLimiter(safety=settings.rate_safety, rate_factor=rate_factor)
    tokens = LwaTokenProvider(
        settings.resolved_lwa_token_url(), credentials, http, cache=redis_client
    )
    return SpApiClient(
        settings.resolved_spapi_endpoint(), seller_key, tokens=tokens, limiter=limiter, http=http
    )
