"""``domain.feeds.FeedGateway`` over SP-API's Feeds 2021-06-30: the document rendered
(``infra.amazon.feeds_xml``, ``MerchantIdentifier`` = the account's seller id), uploaded,
submitted, followed, its processing report read, and the feeds Amazon lists.

Error mapping (``infra.amazon.errors`` -> ``domain.feeds``), per call:

- every call: ``Throttled`` (a 429, or our own bucket's ``RateLimitTimeout``) and every other
  ``AmazonTransientError`` that did not reach the operation -> ``AmazonBusy``, with the wait
  when it is known (our shared bucket's estimate);
- ``create`` (createFeed, never resent blindly: the transport does not retry it once it may
  have reached Amazon):
  - ``AmazonServerError`` (5xx) and ``AmazonUnreachable(request_sent=True)`` (a timeout after
    sending, a dropped connection, a lost answer) -> ``OutcomeUnknown``: the feed may exist;
  - ``UnexpectedResponse`` (a 2xx without a ``feedId``) -> ``OutcomeUnknown``: Amazon took it;
  - a transient error that never reached createFeed (``AmazonUnreachable(request_sent=False)``,
    a 429, the token endpoint's failures) -> ``AmazonBusy``: nothing was created;
  - every other ``AmazonPermanentError`` (400 ``InvalidInput``, 403, 404, 413 ...) ->
    ``FeedRefused(code, message)`` with Amazon's code (else the HTTP status);
- ``upload``: ``AmazonPermanentError`` -> ``FeedRefused`` (no feed names the document);
- ``status``, ``report`` and ``listed``: ``AmazonPermanentError`` is raised as it is (and so is
  ``feeds_xml.NotAProcessingReport``): nothing must conclude from it that a feed was not
  created, so it is no domain decision but a failure for a person to look at.

``listed`` reads every page and refuses (``UnexpectedResponse``) a feed it cannot read rather
than skip it: its answer is the evidence that a lost createFeed created nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain.feeds import (
    AmazonBusy,
    FeedError,
    FeedMessage,
    FeedRefused,
    FeedStatus,
    FeedType,
    ListedFeed,
    OutcomeUnknown,
    ProcessingReport,
)
from domain.shared import Clock, TimeRefused, parse_utc
from infra.amazon.api import FeedsPage
from infra.amazon.errors import (
    AmazonPermanentError,
    AmazonTransientError,
    Throttled,
    UnexpectedResponse,
)
from infra.amazon.feeds_xml import CONTENT_TYPE, parse_processing_report, render
from infra.clock import SystemClock

CREATE_FEED = "feeds.createFeed"
GET_FEEDS = "feeds.getFeeds"
GET_FEED = "feeds.getFeed"
# How far Amazon's clock may be from ours for a listing to count: the window asked for is this
# much wider on each side, and the feeds come back on our clock, moved by the difference the
# answer's ``Date`` shows. Further apart, the listing proves nothing and ``listed`` says so.
CLOCK_REACH = timedelta(minutes=10)


class FeedsClient(Protocol):
    """The calls of ``infra.amazon.client.SpApiClient`` this adapter makes."""

    def create_feed_document(self, content_type: str) -> tuple[str, str]: ...

    def upload_feed_document(self, url: str, content: bytes, content_type: str) -> None: ...

    def create_feed(
        self,
        feed_type: str,
        marketplace_ids: Sequence[str],
        input_feed_document_id: str,
        feed_options: Mapping[str, str] | None = None,
    ) -> str: ...

    def get_feed(self, feed_id: str) -> dict[str, Any]: ...

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
    ) -> FeedsPage: ...

    def get_feed_document(self, document_id: str) -> tuple[str, str | None]: ...

    def download_document(self, url: str, compression: str | None) -> bytes: ...


def busy(exc: AmazonTransientError) -> AmazonBusy:
    """A transient error as the domain's "not now", with the wait when it is known."""
    wait = exc.retry_after_s if isinstance(exc, Throttled) else None
    return AmazonBusy(
        f"{type(exc).__name__}: {exc}",
        retry_after=timedelta(seconds=wait) if wait is not None else None,
    )


def refused(exc: AmazonPermanentError) -> FeedRefused:
    code = exc.code or (str(exc.status_code) if exc.status_code else type(exc).__name__)
    return FeedRefused(code, exc.message)


def _ceil_second(moment: datetime) -> datetime:
    """Amazon's query times are whole seconds: an end is rounded up, never cut short."""
    if moment.microsecond:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def _str(body: Mapping[str, Any], key: str, operation: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise UnexpectedResponse(f"response has no {key}", operation=operation)
    return value


def _apart(page: FeedsPage, now: datetime) -> timedelta:
    """How far Amazon's clock is ahead of ours (behind: negative), from the answer's ``Date``
    (whole seconds); none shown, none assumed. Past ``CLOCK_REACH``: a ``FeedError``."""
    if page.amazon_time is None:
        return timedelta(0)
    apart = page.amazon_time - now
    if abs(apart) > CLOCK_REACH:
        raise FeedError(
            f"getFeeds: Amazon's clock is {apart.total_seconds():+.0f} s from ours, further than"
            f" the {CLOCK_REACH.total_seconds():.0f} s a listing reaches; synchronise this clock"
        )
    return apart


def _listed(feed: Any, index: int) -> ListedFeed:
    where = f"feeds[{index}]"
    if not isinstance(feed, dict):
        raise UnexpectedResponse(f"{where} is not an object", operation=GET_FEEDS)
    raw_time = _str(feed, "createdTime", GET_FEEDS)
    try:
        created = parse_utc(raw_time)
    except TimeRefused as exc:
        raise UnexpectedResponse(
            f"{where}.createdTime {raw_time!r} {exc}", operation=GET_FEEDS
        ) from None
    return ListedFeed(
        amazon_feed_id=_str(feed, "feedId", GET_FEEDS),
        feed_type=_str(feed, "feedType", GET_FEEDS),
        created_at=created,
        processing_status=_str(feed, "processingStatus", GET_FEEDS),
    )


class SpApiFeeds:
    """One gateway for every account: ``client_for(account_id)`` gives that seller's client,
    ``seller_id_for(account_id)`` its selling partner id (the documents' MerchantIdentifier)."""

    def __init__(
        self,
        client_for: Callable[[int], FeedsClient],
        seller_id_for: Callable[[int], str],
        clock: Clock | None = None,
    ) -> None:
        self.client_for = client_for
        self.seller_id_for = seller_id_for
        # The clock the domain draws a listing's window on: Amazon's is measured against it.
        self.clock = clock or SystemClock()

    def render(
        self, account_id: int, feed_type: FeedType, messages: Sequence[FeedMessage]
    ) -> bytes:
        """The document; ``feeds_xml.FeedDocumentError`` names a message Amazon would refuse."""
        return render(self.seller_id_for(account_id), feed_type, messages)

    def upload(self, account_id: int, document: bytes) -> str:
        client = self.client_for(account_id)
        try:
            document_id, url = client.create_feed_document(CONTENT_TYPE)
            client.upload_feed_document(url, document, CONTENT_TYPE)
        except AmazonTransientError as exc:
            raise busy(exc) from exc
        except AmazonPermanentError as exc:
            raise refused(exc) from exc
        return document_id

    def create(
        self, account_id: int, feed_type: FeedType, marketplace_id: str, feed_document_id: str
    ) -> str:
        client = self.client_for(account_id)
        try:
            return client.create_feed(feed_type.value, [marketplace_id], feed_document_id)
        except AmazonTransientError as exc:
            if exc.maybe_applied and exc.operation == CREATE_FEED:
                raise OutcomeUnknown(
                    f"createFeed may have created the feed; no answer came back "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
            raise busy(exc) from exc
        except UnexpectedResponse as exc:
            raise OutcomeUnknown(
                f"createFeed was taken but its answer cannot be read ({exc})"
            ) from exc
        except AmazonPermanentError as exc:
            raise refused(exc) from exc

    def status(self, account_id: int, amazon_feed_id: str) -> FeedStatus:
        try:
            body = self.client_for(account_id).get_feed(amazon_feed_id)
        except AmazonTransientError as exc:
            raise busy(exc) from exc
        result = body.get("resultFeedDocumentId")
        if result is not None and (not isinstance(result, str) or not result):
            raise UnexpectedResponse("resultFeedDocumentId is not text", operation=GET_FEED)
        return FeedStatus(
            processing_status=_str(body, "processingStatus", GET_FEED),
            result_document_id=result,
        )

    def report(self, account_id: int, result_document_id: str) -> tuple[bytes, ProcessingReport]:
        client = self.client_for(account_id)
        try:
            url, compression = client.get_feed_document(result_document_id)
            content = client.download_document(url, compression)
        except AmazonTransientError as exc:
            raise busy(exc) from exc
        return content, parse_processing_report(content)

    def listed(
        self,
        account_id: int,
        feed_type: FeedType,
        marketplace_id: str,
        since: datetime,
        until: datetime,
    ) -> tuple[ListedFeed, ...]:
        """The feeds Amazon lists about ``since``..``until`` (our clock), on our clock.

        Amazon stamps a feed with its own clock, so a window drawn on ours would miss a feed
        once the clocks are further apart than the caller's margin, and a feed missed is a feed
        sent again. The request asks ``CLOCK_REACH`` more on each side; the first answer's
        ``Date`` against our clock gives the difference, each feed's time is moved by it, and a
        difference past ``CLOCK_REACH`` is a ``FeedError`` (nothing can be concluded)."""
        client = self.client_for(account_id)
        found: list[ListedFeed] = []
        token: str | None = None
        apart = timedelta(0)
        try:
            while True:
                if token is None:
                    page = client.get_feeds(
                        feed_types=[feed_type.value],
                        marketplace_ids=[marketplace_id],
                        created_since=since - CLOCK_REACH,
                        created_until=_ceil_second(until + CLOCK_REACH),
                        page_size=100,
                    )
                    apart = _apart(page, self.clock.now())
                else:
                    page = client.get_feeds(next_token=token)
                body = page.body
                feeds = body.get("feeds")
                if not isinstance(feeds, list):
                    raise UnexpectedResponse("response has no feeds list", operation=GET_FEEDS)
                offset = len(found)
                for i, feed in enumerate(feeds):
                    seen = _listed(feed, offset + i)
                    found.append(replace(seen, created_at=seen.created_at - apart))
                next_token = body.get("nextToken")
                if not next_token:
                    return tuple(found)
                if not isinstance(next_token, str):
                    raise UnexpectedResponse("nextToken is not text", operation=GET_FEEDS)
                token = next_token
        except AmazonTransientError as exc:
            raise busy(exc) from exc
