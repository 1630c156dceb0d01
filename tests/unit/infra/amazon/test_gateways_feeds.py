"""The SP-API feeds gateway over a scripted Amazon: the document rendered for the account's
seller, uploaded, submitted once, followed, its report read (gzipped or not), every page of
``getFeeds`` listed; and Amazon's failures as the domain's: busy, refused, or maybe created."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from domain.feeds import (
    AcknowledgementMessage,
    AmazonBusy,
    FeedError,
    FeedRefused,
    FeedStatus,
    FeedType,
    ListedFeed,
    MessageResult,
    OutcomeUnknown,
)
from infra.amazon.client import SpApiClient
from infra.amazon.errors import AmazonNotFound, UnexpectedResponse
from infra.amazon.feeds_xml import CONTENT_TYPE, NotAProcessingReport
from infra.amazon.gateways import SpApiFeeds
from tests.fakes.clock import FixedClock
from tests.unit.infra.amazon.fake_spapi import (
    TOKEN_URL,
    FakeAmazon,
    RecordingLimiter,
    amazon_error,
    query,
    scripted_client,
)

MARKETPLACE = "ATVPDKIKX0DER"
SELLER_ID = "A1SELLER"
DOCUMENTS = "/feeds/2021-06-30/documents"
FEEDS = "/feeds/2021-06-30/feeds"
S3 = "https://tortuga-prod-na.s3.amazonaws.com"
REPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<AmazonEnvelope><Header><DocumentVersion>1.02</DocumentVersion>
<MerchantIdentifier>A1SELLER</MerchantIdentifier></Header>
<MessageType>ProcessingReport</MessageType><Message><MessageID>1</MessageID><ProcessingReport>
<DocumentTransactionID>F1</DocumentTransactionID><StatusCode>Complete</StatusCode>
<ProcessingSummary><MessagesProcessed>2</MessagesProcessed><MessagesSuccessful>1
</MessagesSuccessful><MessagesWithError>1</MessagesWithError><MessagesWithWarning>0
</MessagesWithWarning></ProcessingSummary>
<Result><MessageID>2</MessageID><ResultCode>Error</ResultCode>
<ResultMessageCode>18002</ResultMessageCode><ResultDescription>exceeds</ResultDescription>
<AdditionalInfo><AmazonOrderID>113-0000001-0000001</AmazonOrderID></AdditionalInfo></Result>
</ProcessingReport></Message></AmazonEnvelope>"""


def gateway(client: SpApiClient) -> SpApiFeeds:
    clients = {7: client}
    return SpApiFeeds(clients.__getitem__, {7: SELLER_ID}.__getitem__)


@pytest.fixture
def worker(amazon: FakeAmazon, limiter: RecordingLimiter) -> Iterator[SpApiClient]:
    """A client as a worker builds it: transient errors handed back at once."""
    with scripted_client(amazon, limiter, [], max_wait_s=2.0) as spapi:
        yield spapi


def test_a_document_is_rendered_for_the_accounts_seller(client: SpApiClient) -> None:
    message = AcknowledgementMessage(1, "113-0000001-0000001", "NoInventory")

    document = gateway(client).render(7, FeedType.ACKNOWLEDGEMENT, [message])

    assert b"<MerchantIdentifier>A1SELLER</MerchantIdentifier>" in document
    assert b"<MessageType>OrderAcknowledgement</MessageType>" in document


def test_upload_create_status_and_report(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter
) -> None:
    amazon.queue(
        DOCUMENTS, httpx.Response(201, json={"feedDocumentId": "D1", "url": f"{S3}/in?sig=1"})
    )
    amazon.queue("/in", httpx.Response(200))
    amazon.queue(FEEDS, httpx.Response(202, json={"feedId": "F1"}))
    amazon.queue(
        f"{FEEDS}/F1",
        httpx.Response(200, json={"feedId": "F1", "processingStatus": "IN_QUEUE"}),
        httpx.Response(
            200, json={"feedId": "F1", "processingStatus": "DONE", "resultFeedDocumentId": "R1"}
        ),
    )
    amazon.queue(
        f"{DOCUMENTS}/R1",
        httpx.Response(
            200, json={"feedDocumentId": "R1", "url": f"{S3}/out", "compressionAlgorithm": "GZIP"}
        ),
    )
    amazon.queue("/out", httpx.Response(200, content=gzip.compress(REPORT)))
    feeds = gateway(client)

    document_id = feeds.upload(7, b"<AmazonEnvelope/>")
    feed_id = feeds.create(7, FeedType.ADJUSTMENT, MARKETPLACE, document_id)
    first, done = feeds.status(7, feed_id), feeds.status(7, feed_id)
    content, report = feeds.report(7, "R1")

    assert (document_id, feed_id) == ("D1", "F1")
    assert amazon.calls(DOCUMENTS)[0].read() == b'{"contentType":"text/xml; charset=UTF-8"}'
    upload = amazon.calls("/in")[0]
    assert upload.read() == b"<AmazonEnvelope/>" and upload.headers["content-type"] == CONTENT_TYPE
    assert amazon.calls(FEEDS)[0].read() == (
        b'{"feedType":"POST_PAYMENT_ADJUSTMENT_DATA","marketplaceIds":["ATVPDKIKX0DER"],'
        b'"inputFeedDocumentId":"D1"}'
    )
    assert first == FeedStatus("IN_QUEUE") and not first.finished
    assert done == FeedStatus("DONE", "R1") and done.finished
    assert content == REPORT
    assert (report.processed, report.successful, report.with_error) == (2, 1, 1)
    assert report.results == (MessageResult(2, "Error", "18002", "exceeds", "113-0000001-0000001"),)
    assert limiter.acquired.count("feeds.createFeed") == 1


def _create(client: SpApiClient) -> str:
    return gateway(client).create(7, FeedType.ACKNOWLEDGEMENT, MARKETPLACE, "D1")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (amazon_error(500, "InternalFailure"), OutcomeUnknown),
        (amazon_error(503, "ServiceUnavailable"), OutcomeUnknown),
        (httpx.ReadTimeout("no answer"), OutcomeUnknown),
        (httpx.RemoteProtocolError("dropped"), OutcomeUnknown),
        (httpx.Response(202, json={}), OutcomeUnknown),  # taken, but no feedId to read
        (amazon_error(429, "QuotaExceeded"), AmazonBusy),
        (amazon_error(400, "InvalidInput", "inputFeedDocumentId is not yours"), FeedRefused),
        (amazon_error(413, "RequestEntityTooLarge"), FeedRefused),
    ],
)
def test_createfeed_is_sent_once_and_its_failure_says_what_amazon_may_have_done(
    worker: SpApiClient, amazon: FakeAmazon, reply: httpx.Response | Exception, expected: type
) -> None:
    amazon.queue(FEEDS, reply, httpx.Response(202, json={"feedId": "F-second"}))

    with pytest.raises(expected) as caught:
        _create(worker)

    assert len(amazon.calls(FEEDS)) == 1  # never resent blindly
    if isinstance(caught.value, FeedRefused):
        assert caught.value.code in ("InvalidInput", "RequestEntityTooLarge")
        assert caught.value.message


def test_a_patient_client_also_never_resends_a_createfeed_that_may_have_been_applied(
    client: SpApiClient, amazon: FakeAmazon, sleeps: list[float]
) -> None:
    amazon.queue(
        FEEDS, amazon_error(500, "InternalFailure"), httpx.Response(202, json={"feedId": "F2"})
    )

    with pytest.raises(OutcomeUnknown):
        _create(client)

    assert len(amazon.calls(FEEDS)) == 1 and sleeps == []


def test_a_createfeed_amazon_refused_before_taking_it_is_resent_by_a_patient_client(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue(
        FEEDS,
        amazon_error(429, "QuotaExceeded"),
        httpx.ConnectError("refused"),
        httpx.Response(202, json={"feedId": "F3"}),
    )

    assert _create(client) == "F3"
    assert len(amazon.calls(FEEDS)) == 3


def test_busy_carries_the_wait_and_a_createfeed_that_never_left_is_not_unknown(
    worker: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter
) -> None:
    amazon.queue(FEEDS, amazon_error(429, "QuotaExceeded"))
    with pytest.raises(AmazonBusy) as throttled:
        _create(worker)
    assert throttled.value.retry_after == timedelta(seconds=2.5)  # our bucket's estimate

    amazon.queue(FEEDS, httpx.ConnectError("refused"), httpx.ConnectError("refused"))
    with pytest.raises(AmazonBusy):
        _create(worker)

    limiter.refuse = True  # our own budget has no token: nothing is sent
    with pytest.raises(AmazonBusy) as waiting:
        _create(worker)
    assert waiting.value.retry_after == timedelta(seconds=42)
    assert len(amazon.calls(FEEDS)) == 3


class TokenEndpointDown(FakeAmazon):
    """Login with Amazon answers 503: no SP-API call can leave."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return httpx.Response(503)
        return super().__call__(request)


def test_a_token_endpoint_failure_means_createfeed_never_left(limiter: RecordingLimiter) -> None:
    amazon = TokenEndpointDown()
    with scripted_client(amazon, limiter, [], max_wait_s=2.0) as spapi, pytest.raises(AmazonBusy):
        _create(spapi)
    assert amazon.calls(FEEDS) == []


def test_reads_map_transient_errors_to_busy_and_raise_the_rest_as_they_are(
    worker: SpApiClient, amazon: FakeAmazon
) -> None:
    feeds = gateway(worker)
    amazon.queue(f"{FEEDS}/F1", amazon_error(503, "ServiceUnavailable"))
    with pytest.raises(AmazonBusy):
        feeds.status(7, "F1")
    amazon.queue(f"{FEEDS}/F1", amazon_error(404, "NotFound"))
    with pytest.raises(AmazonNotFound):
        feeds.status(7, "F1")
    amazon.queue(f"{FEEDS}/F1", httpx.Response(200, json={"feedId": "F1"}))
    with pytest.raises(UnexpectedResponse, match="processingStatus"):
        feeds.status(7, "F1")
    amazon.queue(f"{DOCUMENTS}/R1", httpx.ReadTimeout("slow"))
    with pytest.raises(AmazonBusy):
        feeds.report(7, "R1")
    amazon.queue(f"{DOCUMENTS}/R1", httpx.Response(200, json={"url": f"{S3}/csv"}))
    amazon.queue("/csv", httpx.Response(200, content=b"sku\tqty\n"))
    with pytest.raises(NotAProcessingReport):
        feeds.report(7, "R1")


def test_an_upload_amazon_refuses_is_refused_and_a_busy_one_is_busy(
    worker: SpApiClient, amazon: FakeAmazon
) -> None:
    feeds = gateway(worker)
    amazon.queue(DOCUMENTS, amazon_error(400, "InvalidInput", "contentType"))
    with pytest.raises(FeedRefused) as refused:
        feeds.upload(7, b"<x/>")
    assert refused.value.code == "InvalidInput"
    amazon.queue(DOCUMENTS, httpx.Response(201, json={"feedDocumentId": "D2", "url": f"{S3}/in2"}))
    amazon.queue("/in2", httpx.Response(503))
    with pytest.raises(AmazonBusy):
        feeds.upload(7, b"<x/>")


def _feed(feed_id: str, created: str, status: str = "DONE") -> dict[str, str]:
    return {
        "feedId": feed_id,
        "feedType": "POST_PAYMENT_ADJUSTMENT_DATA",
        "marketplaceIds": MARKETPLACE,
        "createdTime": created,
        "processingStatus": status,
    }


def test_listed_reads_every_page_with_the_token_alone(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue(
        FEEDS,
        httpx.Response(
            200,
            json={
                "feeds": [_feed("F9", "2026-11-01T12:00:03.250Z", "IN_QUEUE")],
                "nextToken": "n2",
            },
        ),
        httpx.Response(200, json={"feeds": [_feed("F8", "2026-11-01T12:00:01+00:00")]}),
    )
    since = datetime(2026, 11, 1, 12, 0, 0, 400_000, tzinfo=UTC)
    until = datetime(2026, 11, 1, 12, 0, 3, 100_000, tzinfo=UTC)

    listed = gateway(client).listed(7, FeedType.ADJUSTMENT, MARKETPLACE, since, until)

    assert listed == (
        ListedFeed(
            "F9",
            "POST_PAYMENT_ADJUSTMENT_DATA",
            datetime(2026, 11, 1, 12, 0, 3, 250_000, tzinfo=UTC),
            "IN_QUEUE",
        ),
        ListedFeed(
            "F8",
            "POST_PAYMENT_ADJUSTMENT_DATA",
            datetime(2026, 11, 1, 12, 0, 1, tzinfo=UTC),
            "DONE",
        ),
    )
    first, second = (query(r) for r in amazon.calls(FEEDS))
    assert first == {
        "feedTypes": "POST_PAYMENT_ADJUSTMENT_DATA",
        "marketplaceIds": MARKETPLACE,
        # CLOCK_REACH wider on each side, the end rounded up: the window is never cut short
        "createdSince": "2026-11-01T11:50:00Z",
        "createdUntil": "2026-11-01T12:10:04Z",
        "pageSize": "100",
    }
    assert second == {"nextToken": "n2"}


def _dated(feeds: list[dict[str, str]], date: str) -> httpx.Response:
    return httpx.Response(200, json={"feeds": feeds}, headers={"date": date})


def test_listed_moves_amazons_times_onto_our_clock_by_the_answers_date(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    # Amazon's clock six minutes ahead of ours: its feed of 12:06:01 was made at our 12:00:01,
    # inside the window; read as stamped, it would fall outside, and be sent again.
    amazon.queue(
        FEEDS, _dated([_feed("F7", "2026-11-01T12:06:01Z")], "Sun, 01 Nov 2026 12:07:00 GMT")
    )
    ours = datetime(2026, 11, 1, 12, 1, 0, tzinfo=UTC)
    feeds = SpApiFeeds({7: client}.__getitem__, {7: SELLER_ID}.__getitem__, clock=FixedClock(ours))
    since = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)

    listed = feeds.listed(7, FeedType.ADJUSTMENT, MARKETPLACE, since, since + timedelta(seconds=5))

    assert [(f.amazon_feed_id, f.created_at) for f in listed] == [
        ("F7", datetime(2026, 11, 1, 12, 0, 1, tzinfo=UTC))
    ]


def test_a_listing_from_a_clock_further_away_than_its_reach_proves_nothing(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue(FEEDS, _dated([], "Sun, 01 Nov 2026 11:30:00 GMT"))
    ours = datetime(2026, 11, 1, 12, 1, 0, tzinfo=UTC)
    feeds = SpApiFeeds({7: client}.__getitem__, {7: SELLER_ID}.__getitem__, clock=FixedClock(ours))

    with pytest.raises(FeedError, match="Amazon's clock is -1860 s from ours"):
        feeds.listed(7, FeedType.ADJUSTMENT, MARKETPLACE, ours, ours)


@pytest.mark.parametrize(
    "body",
    [
        {"feeds": [{"feedId": "F1", "feedType": "X", "processingStatus": "DONE"}]},
        {"feeds": [_feed("F1", "2026-11-01T12:00:00")]},
        {"feeds": ["F1"]},
        {},
    ],
)
def test_a_listing_it_cannot_read_is_refused_never_shortened(
    client: SpApiClient, amazon: FakeAmazon, body: dict[str, object]
) -> None:
    amazon.queue(FEEDS, httpx.Response(200, json=body))
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(UnexpectedResponse):
        gateway(client).listed(7, FeedType.ADJUSTMENT, MARKETPLACE, now, now)


def test_a_listing_that_meets_a_transient_error_is_busy(
    worker: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue(
        FEEDS,
        httpx.Response(200, json={"feeds": [], "nextToken": "n2"}),
        amazon_error(429, "QuotaExceeded"),
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(AmazonBusy):
        gateway(worker).listed(7, FeedType.ADJUSTMENT, MARKETPLACE, now, now)
