"""The SP-API client for one seller: every API family over one transport, and ``build_client``.

``SpApiClient`` is the face callers use (workers, the CLI, the gateways, the benchmarks). Its
methods hand on to the families in ``infra.amazon.api`` (also reachable as ``client.orders``,
``client.orders_v0``, ``client.feeds``, ``client.finances``, ``client.reports``,
``client.documents``); the rules
every call follows (rate budget, token, errors, retries, logging) live in ``infra.amazon.http``.

A process that serves many sellers builds one ``httpx.Client`` (``new_http``) and one limiter
(``new_limiter``) and hands them to every seller's ``build_client``: an ``httpx.Client`` costs an
SSL context (most of the CPU of building a client) and a connection pool, and every seller talks
to the same few hosts. What is the seller's own stays per client: its LWA token provider (the
token itself cached in Redis) and its rate budget (keyed by ``seller_key`` in the shared limiter).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import redis

from infra.amazon.api import (
    DOWNLOAD_OPERATION,
    UPLOAD_OPERATION,
    DocumentsApi,
    FeedsApi,
    FeedsPage,
    FinancesApi,
    OrdersApi,
    OrdersV0Api,
    ReportsApi,
)
from infra.amazon.http import IDEMPOTENT_WRITES, USER_AGENT, RetryPolicy, SpApiTransport
from infra.amazon.lwa import LwaCredentials, LwaTokenProvider
from infra.amazon.ratelimit import (
    InProcessRateLimiter,
    NoRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from infra.amazon.schemas import (
    GetOrderItemsV0Payload,
    GetOrdersV0Payload,
    ListFinancialEventGroupsPayload,
    ListFinancialEventsPayload,
    Order,
    SearchOrdersResponse,
)
from infra.settings import Settings

__all__ = [
    "DOWNLOAD_OPERATION",
    "IDEMPOTENT_WRITES",
    "UPLOAD_OPERATION",
    "USER_AGENT",
    "SpApiClient",
    "build_client",
    "new_http",
    "new_limiter",
]


class SpApiClient:
    """SP-API for one seller (``seller_key`` names the seller's rate budget, e.g. id + region).

    The client owns ``http`` from here on unless ``owns_http`` is False (a process's shared
    client, closed by whoever built it): ``close()`` closes only what it owns. Reuse one client
    per seller per process so the access token is reused.

    ``max_wait_s`` None (the default) waits and retries as long as Amazon's rules allow, for the
    CLI and the benchmarks; a number is for a worker slot: no wait longer than that, transient
    errors raised at once with ``retry_after_s`` where known (``infra.amazon.http``).
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
        max_wait_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        owns_http: bool = True,
    ) -> None:
        self.owns_http = owns_http
        retry = RetryPolicy(
            max_attempts=max_attempts,
            backoff_base_s=backoff_base_s,
            backoff_cap_s=backoff_cap_s,
            max_wait_s=max_wait_s,
            rng=rng or random.Random(),
        )
        self.transport = SpApiTransport(
            endpoint, seller_key, tokens, limiter, http, retry, sleep=sleep, now=now
        )
        self.orders = OrdersApi(self.transport)
        self.orders_v0 = OrdersV0Api(self.transport)
        self.feeds = FeedsApi(self.transport)
        self.finances = FinancesApi(self.transport)
        self.reports = ReportsApi(self.transport)
        self.documents = DocumentsApi(self.transport)

    def __repr__(self) -> str:
        return f"SpApiClient(endpoint={self.endpoint!r}, seller_key={self.seller_key!r})"

    def close(self) -> None:
        if self.owns_http:
            self.http.close()

    def __enter__(self) -> SpApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- what the transport holds, readable (and the retry knobs settable) from here -----------

    @property
    def endpoint(self) -> str:
        return self.transport.endpoint

    @property
    def seller_key(self) -> str:
        return self.transport.seller_key

    @property
    def tokens(self) -> LwaTokenProvider:
        return self.transport.tokens

    @property
    def limiter(self) -> RateLimiter:
        return self.transport.limiter

    @property
    def http(self) -> httpx.Client:
        return self.transport.http

    @property
    def retry(self) -> RetryPolicy:
        return self.transport.retry

    @property
    def max_attempts(self) -> int:
        return self.retry.max_attempts

    @max_attempts.setter
    def max_attempts(self, value: int) -> None:
        self.retry.max_attempts = value

    @property
    def backoff_base_s(self) -> float:
        return self.retry.backoff_base_s

    @backoff_base_s.setter
    def backoff_base_s(self, value: float) -> None:
        self.retry.backoff_base_s = value

    @property
    def backoff_cap_s(self) -> float:
        return self.retry.backoff_cap_s

    @backoff_cap_s.setter
    def backoff_cap_s(self, value: float) -> None:
        self.retry.backoff_cap_s = value

    @property
    def max_wait_s(self) -> float | None:
        return self.retry.max_wait_s

    # -- Orders v2026-01-01 --------------------------------------------------------------------

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
        """``OrdersApi.search_orders_raw``: one page as Amazon's JSON."""
        return self.orders.search_orders_raw(
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
        """``OrdersApi.search_orders``: one page, validated, bad orders set aside."""
        return self.orders.search_orders(
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
        """``OrdersApi.iter_search_orders``: every page of one search."""
        return self.orders.iter_search_orders(
            last_updated_after=last_updated_after,
            created_after=created_after,
            last_updated_before=last_updated_before,
            created_before=created_before,
            marketplace_ids=marketplace_ids,
            fulfillment_statuses=fulfillment_statuses,
            fulfilled_by=fulfilled_by,
            included_data=included_data,
            max_results=max_results,
        )

    def get_order(
        self, order_id: str, included_data: Sequence[str] = (), *, patient: bool = True
    ) -> Order:
        """``OrdersApi.get_order``; ``patient=False``: a free token now and one attempt."""
        return self.orders.get_order(order_id, included_data, patient=patient)

    # -- Orders v0 -----------------------------------------------------------------------------

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
        """``OrdersV0Api.get_orders``: one ``getOrders`` page."""
        return self.orders_v0.get_orders(
            marketplace_ids=marketplace_ids,
            created_after=created_after,
            created_before=created_before,
            last_updated_after=last_updated_after,
            last_updated_before=last_updated_before,
            order_statuses=order_statuses,
            fulfillment_channels=fulfillment_channels,
            amazon_order_ids=amazon_order_ids,
            max_results=max_results,
            next_token=next_token,
        )

    def get_order_items_v0(self, order_id: str) -> GetOrderItemsV0Payload:
        """``OrdersV0Api.get_order_items``: all items, every page joined."""
        return self.orders_v0.get_order_items(order_id)

    def confirm_shipment(
        self, order_id: str, marketplace_id: str, package_detail: Mapping[str, Any]
    ) -> None:
        """``OrdersV0Api.confirm_shipment``: one package; a resend edits the same package."""
        self.orders_v0.confirm_shipment(order_id, marketplace_id, package_detail)

    # -- Feeds --------------------------------------------------------------------------------

    def create_feed_document(self, content_type: str) -> tuple[str, str]:
        """``FeedsApi.create_feed_document``: ``(feed_document_id, presigned upload url)``."""
        return self.feeds.create_feed_document(content_type)

    def upload_feed_document(self, url: str, content: bytes, content_type: str) -> None:
        """``FeedsApi.upload_feed_document``: PUT to the presigned URL."""
        self.feeds.upload_feed_document(url, content, content_type)

    def create_feed(
        self,
        feed_type: str,
        marketplace_ids: Sequence[str],
        input_feed_document_id: str,
        feed_options: Mapping[str, str] | None = None,
    ) -> str:
        """``FeedsApi.create_feed``: never resent blindly (a lost answer is "maybe applied")."""
        return self.feeds.create_feed(
            feed_type, marketplace_ids, input_feed_document_id, feed_options
        )

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        """``FeedsApi.get_feed``: the feed's status."""
        return self.feeds.get_feed(feed_id)

    def get_feeds(
        self,
        *,
        feed_types: Sequence[str] | None = None,
        marketplace_ids: Sequence[str] | None = None,
        processing_statuses: Sequence[str] | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        page_size: int = 100,
        next_token: str | None = None,
    ) -> FeedsPage:
        """``FeedsApi.get_feeds``: a page and Amazon's time (with ``next_token``, only that)."""
        return self.feeds.get_feeds(
            feed_types=feed_types,
            marketplace_ids=marketplace_ids,
            processing_statuses=processing_statuses,
            created_since=created_since,
            created_until=created_until,
            page_size=page_size,
            next_token=next_token,
        )

    def get_feed_document(self, document_id: str) -> tuple[str, str | None]:
        """``FeedsApi.get_feed_document``: ``(url, compressionAlgorithm)``."""
        return self.feeds.get_feed_document(document_id)

    # -- Finances v0 ----------------------------------------------------------------------------

    def iter_financial_events_by_order_id(
        self, order_id: str, *, max_results: int = 100
    ) -> Iterator[ListFinancialEventsPayload]:
        """``FinancesApi.iter_financial_events_by_order_id``: every page of the order's events."""
        return self.finances.iter_financial_events_by_order_id(order_id, max_results=max_results)

    def iter_financial_events(
        self,
        *,
        posted_after: datetime,
        posted_before: datetime | None = None,
        max_results: int = 100,
    ) -> Iterator[ListFinancialEventsPayload]:
        """``FinancesApi.iter_financial_events``: every page of the events posted in a window."""
        return self.finances.iter_financial_events(
            posted_after=posted_after, posted_before=posted_before, max_results=max_results
        )

    def iter_financial_event_groups(
        self,
        *,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        max_results: int = 100,
    ) -> Iterator[ListFinancialEventGroupsPayload]:
        """``FinancesApi.iter_financial_event_groups``: every page of the event groups."""
        return self.finances.iter_financial_event_groups(
            started_after=started_after, started_before=started_before, max_results=max_results
        )

    def iter_financial_events_by_group_id(
        self,
        event_group_id: str,
        *,
        posted_after: datetime | None = None,
        posted_before: datetime | None = None,
        max_results: int = 100,
    ) -> Iterator[ListFinancialEventsPayload]:
        """``FinancesApi.iter_financial_events_by_group_id``: every page of a group's events."""
        return self.finances.iter_financial_events_by_group_id(
            event_group_id,
            posted_after=posted_after,
            posted_before=posted_before,
            max_results=max_results,
        )

    # -- Reports and documents -----------------------------------------------------------------

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
        """``ReportsApi.get_reports``: one page."""
        return self.reports.get_reports(
            report_types=report_types,
            processing_statuses=processing_statuses,
            marketplace_ids=marketplace_ids,
            created_since=created_since,
            created_until=created_until,
            page_size=page_size,
            next_token=next_token,
        )

    def get_report_document(self, document_id: str) -> tuple[str, str | None]:
        """``ReportsApi.get_report_document``: ``(url, compressionAlgorithm)``."""
        return self.reports.get_report_document(document_id)

    def download_document(self, url: str, compression: str | None) -> bytes:
        """``DocumentsApi.download_document``: the bytes, gunzipped when Amazon said GZIP."""
        return self.documents.download_document(url, compression)


def new_http(settings: Settings) -> httpx.Client:
    """The HTTP client SP-API calls go through (one per process can serve every seller)."""
    return httpx.Client(
        timeout=httpx.Timeout(settings.http_read_timeout, connect=settings.http_connect_timeout),
        follow_redirects=False,
    )


def new_limiter(settings: Settings, redis_client: redis.Redis | None = None) -> RateLimiter:
    """The rate limiter for ``settings``' endpoint; one per process can serve every seller.

    With Redis the budget is shared by every process; without it (one-off tools) it is kept in
    this process. Against the sandbox the bucket is scaled by ``sandbox_rate_factor`` like the
    sandbox's own, and a factor of 0 (limits lifted) turns the client-side limiter off.
    """
    rate_factor = settings.sandbox_rate_factor if settings.uses_sandbox() else 1.0
    if rate_factor == 0:
        return NoRateLimiter()
    if redis_client is not None:
        return RedisRateLimiter(redis_client, safety=settings.rate_safety, rate_factor=rate_factor)
    return InProcessRateLimiter(safety=settings.rate_safety, rate_factor=rate_factor)


def build_client(
    settings: Settings,
    seller_key: str,
    credentials: LwaCredentials,
    redis_client: redis.Redis | None = None,
    *,
    max_wait_s: float | None = None,
    http: httpx.Client | None = None,
    limiter: RateLimiter | None = None,
) -> SpApiClient:
    """A client for one seller, configured from settings only (region or sandbox endpoint).

    With Redis the access token is shared by every process (and so is the budget, see
    ``new_limiter``). ``http`` and ``limiter``: a process's shared ones (the client then does not
    close ``http``); by default the client builds its own. ``max_wait_s``: see ``SpApiClient``
    (workers pass a few seconds).
    """
    owns_http = http is None
    shared_http = new_http(settings) if http is None else http
    tokens = LwaTokenProvider(
        settings.resolved_lwa_token_url(), credentials, shared_http, cache=redis_client
    )
    return SpApiClient(
        settings.resolved_spapi_endpoint(),
        seller_key,
        tokens=tokens,
        limiter=new_limiter(settings, redis_client) if limiter is None else limiter,
        http=shared_http,
        max_wait_s=max_wait_s,
        owns_http=owns_http,
    )
