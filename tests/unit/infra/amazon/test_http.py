"""The transport over a scripted Amazon: when a call is sent again, after how long, and what is
logged; the patient policy and the bounded one a worker slot uses (``max_wait_s``)."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import httpx
import pytest

from infra.amazon.client import SpApiClient
from infra.amazon.errors import (
    AmazonAuthError,
    AmazonError,
    AmazonNotFound,
    AmazonPermanentError,
    AmazonServerError,
    AmazonUnreachable,
    InvalidInput,
    RateLimitTimeout,
    Throttled,
)
from infra.amazon.http import RetryPolicy, SpApiRequest
from tests.unit.infra.amazon.fake_spapi import (
    SEARCH,
    T0,
    FakeAmazon,
    RecordingLimiter,
    amazon_error,
    order_json,
    scripted_client,
)


def test_429s_are_retried_with_capped_full_jitter_backoff(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter, sleeps: list[float]
) -> None:
    amazon.queue(
        SEARCH,
        amazon_error(429, "QuotaExceeded"),
        amazon_error(429, "QuotaExceeded"),
        amazon_error(429, "QuotaExceeded"),
        httpx.Response(200, json={"orders": []}),
    )
    client.search_orders(last_updated_after=T0)
    assert len(amazon.requests) == 4
    assert limiter.acquired == ["orders2026.searchOrders"] * 4  # every attempt pays a token
    assert limiter.throttled == ["orders2026.searchOrders"] * 3
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps, start=1):
        assert 0 <= slept <= min(30.0, 0.5 * 2 ** (attempt - 1))


def test_retries_stop_after_max_attempts(
    client: SpApiClient, amazon: FakeAmazon, sleeps: list[float]
) -> None:
    amazon.defaults[SEARCH] = amazon_error(503, "ServiceUnavailable")
    with pytest.raises(AmazonServerError) as caught:
        client.search_orders(last_updated_after=T0)
    assert len(amazon.requests) == 6
    assert len(sleeps) == 5
    assert caught.value.status_code == 503 and caught.value.request_id == "req-503"
    assert caught.value.operation == "orders2026.searchOrders"


def test_an_impatient_read_asks_for_a_free_token_and_tries_once(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter, sleeps: list[float]
) -> None:
    path = "/orders/2026-01-01/orders/113-0000001-0000001"
    amazon.queue(path, amazon_error(429, "QuotaExceeded"))  # a retry would meet a 404
    with pytest.raises(Throttled):
        client.get_order("113-0000001-0000001", patient=False)
    assert len(amazon.calls(path)) == 1 and sleeps == []
    assert limiter.timeouts == [0.0]  # no waiting for the budget either
    assert limiter.throttled == ["orders2026.getOrder"]  # a 429 still empties our bucket
    limiter.refuse = True
    with pytest.raises(RateLimitTimeout):
        client.get_order("113-0000001-0000001", patient=False)
    assert len(amazon.calls(path)) == 1  # nothing sent without a token
    limiter.refuse = False
    amazon.queue(path, amazon_error(429, "QuotaExceeded"))
    amazon.defaults[path] = httpx.Response(200, json={"order": order_json(1)})
    client.get_order("113-0000001-0000001")  # patient, as every other call: retried
    assert len(amazon.calls(path)) == 3 and len(sleeps) == 1
    assert limiter.timeouts[-2:] == [None, None]


def test_the_backoff_is_capped() -> None:
    policy = RetryPolicy(backoff_base_s=1.0, backoff_cap_s=4.0, rng=random.Random(1))
    draws = [policy.backoff(attempt) for attempt in range(1, 50) for _ in range(20)]
    assert max(draws) <= 4.0 and max(draws) > 3.0 and min(draws) >= 0


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_for_reads(
    client: SpApiClient, amazon: FakeAmazon, status: int
) -> None:
    path = "/orders/2026-01-01/orders/113-0000001-0000001"
    amazon.queue(
        path,
        amazon_error(status, "InternalFailure"),
        httpx.Response(200, json={"order": order_json(1)}),
    )
    assert client.get_order("113-0000001-0000001").order_id == "113-0000001-0000001"
    assert len(amazon.requests) == 2


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, InvalidInput),
        (404, AmazonNotFound),
        (409, AmazonPermanentError),
        (413, AmazonPermanentError),
        (415, AmazonPermanentError),
    ],
)
def test_client_errors_are_never_retried(
    client: SpApiClient,
    amazon: FakeAmazon,
    sleeps: list[float],
    status: int,
    error_type: type[AmazonError],
) -> None:
    amazon.queue(
        SEARCH, amazon_error(status, "InvalidInput", "Invalid createdAfter", "must be ISO 8601")
    )
    with pytest.raises(error_type) as caught:
        client.search_orders(last_updated_after=T0)
    assert type(caught.value) is error_type
    assert len(amazon.requests) == 1 and sleeps == []
    error = caught.value
    assert (error.status_code, error.code, error.message, error.details) == (
        status,
        "InvalidInput",
        "Invalid createdAfter",
        "must be ISO 8601",
    )
    assert error.request_id == f"req-{status}"


def test_a_403_refreshes_the_token_once(client: SpApiClient, amazon: FakeAmazon) -> None:
    amazon.queue(
        SEARCH,
        amazon_error(403, "Unauthorized", "Access to the resource is forbidden"),
        httpx.Response(200, json={"orders": []}),
    )
    client.search_orders(last_updated_after=T0)
    tokens = [r.headers["x-amz-access-token"] for r in amazon.requests]
    assert tokens == ["Atza|1", "Atza|2"]
    assert amazon.token_requests == 2


def test_a_second_403_is_an_auth_error(
    client: SpApiClient, amazon: FakeAmazon, sleeps: list[float]
) -> None:
    amazon.defaults[SEARCH] = amazon_error(403, "Unauthorized")
    with pytest.raises(AmazonAuthError):
        client.search_orders(last_updated_after=T0)
    assert len(amazon.requests) == 2 and amazon.token_requests == 2 and sleeps == []


def test_connect_errors_are_retried_even_for_createfeed(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    path = "/feeds/2021-06-30/feeds"
    amazon.queue(
        path,
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.Response(202, json={"feedId": "F1"}),
    )
    assert client.create_feed("POST_PAYMENT_ADJUSTMENT_DATA", ["ATVPDKIKX0DER"], "D1") == "F1"
    assert len(amazon.requests) == 3
    assert amazon.requests[0].read() == (
        b'{"feedType":"POST_PAYMENT_ADJUSTMENT_DATA","marketplaceIds":["ATVPDKIKX0DER"],'
        b'"inputFeedDocumentId":"D1"}'
    )


@pytest.mark.parametrize(
    "lost",
    [
        httpx.ReadTimeout("no answer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
    ],
)
def test_a_lost_createfeed_response_is_maybe_applied_and_not_resent(
    client: SpApiClient, amazon: FakeAmazon, lost: Exception
) -> None:
    amazon.queue("/feeds/2021-06-30/feeds", lost, httpx.Response(202, json={"feedId": "F2"}))
    with pytest.raises(AmazonUnreachable) as caught:
        client.create_feed("POST_PAYMENT_ADJUSTMENT_DATA", ["ATVPDKIKX0DER"], "D1")
    assert caught.value.request_sent is True and caught.value.maybe_applied is True
    assert len(amazon.requests) == 1


def test_a_createfeed_server_error_is_not_resent(client: SpApiClient, amazon: FakeAmazon) -> None:
    amazon.queue("/feeds/2021-06-30/feeds", amazon_error(500, "InternalFailure"))
    with pytest.raises(AmazonServerError) as caught:
        client.create_feed("POST_PAYMENT_ADJUSTMENT_DATA", ["ATVPDKIKX0DER"], "D1")
    assert caught.value.maybe_applied is True
    assert len(amazon.requests) == 1


def test_lost_responses_are_retried_for_idempotent_operations(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    confirm = "/orders/v0/orders/113-0000001-0000001/shipmentConfirmation"
    amazon.queue(confirm, httpx.ReadTimeout("no answer"), httpx.Response(204))
    package = {
        "packageReferenceId": "1",
        "carrierCode": "UPS",
        "trackingNumber": "1Z999",
        "shipDate": "2026-11-01T12:00:00Z",
        "orderItems": [{"orderItemId": "1", "quantity": 1}],
    }
    client.confirm_shipment("113-0000001-0000001", "ATVPDKIKX0DER", package)
    first, second = amazon.calls(confirm)
    assert first.read() == second.read()  # the resend is the same edit of package 1
    get = "/orders/2026-01-01/orders/113-0000001-0000001"
    amazon.queue(
        get,
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(200, json={"order": order_json(1)}),
    )
    client.get_order("113-0000001-0000001")
    assert len(amazon.calls(get)) == 2


def test_our_own_bucket_timing_out_sends_nothing(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter
) -> None:
    limiter.refuse = True
    with pytest.raises(RateLimitTimeout) as caught:
        client.search_orders(last_updated_after=T0)
    assert caught.value.retry_after_s == 42.0
    assert amazon.requests == [] and amazon.token_requests == 0


def test_calls_are_logged_without_tokens(
    client: SpApiClient, amazon: FakeAmazon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    amazon.queue(
        SEARCH,
        amazon_error(429, "QuotaExceeded"),
        httpx.Response(200, json={"orders": [order_json(1)]}, headers={"x-amzn-RequestId": "r1"}),
    )
    client.search_orders(last_updated_after=T0)
    calls = [r for r in caplog.records if r.getMessage() == "spapi call"]
    assert [(r.__dict__["status"], r.__dict__["attempt"]) for r in calls] == [(429, 1), (200, 2)]
    assert calls[1].__dict__["request_id"] == "r1"
    assert calls[1].__dict__["operation"] == "orders2026.searchOrders"
    everything = " ".join(repr(r.__dict__) for r in caplog.records)
    for secret in ("Atza|", "sandbox-secret", "Atzr|", "jane@example.com"):
        assert secret not in everything


# -- the bounded policy: a worker slot waits at most max_wait_s ---------------------------------

GET_ORDER = "/orders/2026-01-01/orders/113-0000001-0000001"


@pytest.fixture
def worker_client(
    amazon: FakeAmazon, limiter: RecordingLimiter, sleeps: list[float]
) -> Iterator[SpApiClient]:
    with scripted_client(amazon, limiter, sleeps, max_wait_s=2.0) as spapi:
        yield spapi


def test_a_bounded_client_waits_for_a_budget_token_at_most_max_wait_s(
    worker_client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter
) -> None:
    amazon.defaults[GET_ORDER] = httpx.Response(200, json={"order": order_json(1)})
    worker_client.get_order("113-0000001-0000001")
    worker_client.get_order("113-0000001-0000001", patient=False)
    assert limiter.timeouts == [2.0, 0.0]  # an impatient read still takes only a free token
    limiter.refuse = True
    with pytest.raises(RateLimitTimeout) as caught:
        worker_client.get_order("113-0000001-0000001")
    assert caught.value.retry_after_s == 42.0  # the bucket's estimate, for the task's countdown
    assert len(amazon.calls(GET_ORDER)) == 2


def test_a_bounded_client_hands_a_429_back_at_once_with_the_buckets_estimate(
    worker_client: SpApiClient,
    amazon: FakeAmazon,
    limiter: RecordingLimiter,
    sleeps: list[float],
) -> None:
    amazon.queue(SEARCH, amazon_error(429, "QuotaExceeded"), httpx.Response(200, json={}))
    with pytest.raises(Throttled) as caught:
        worker_client.search_orders(last_updated_after=T0)
    assert type(caught.value) is Throttled
    assert caught.value.retry_after_s == limiter.estimate_after_429
    assert caught.value.request_id == "req-429" and caught.value.status_code == 429
    assert limiter.throttled == ["orders2026.searchOrders"]  # our bucket emptied first
    assert len(amazon.requests) == 1 and sleeps == []


@pytest.mark.parametrize(
    ("failure", "error_type"),
    [
        (amazon_error(500, "InternalFailure"), AmazonServerError),
        (amazon_error(503, "ServiceUnavailable"), AmazonServerError),
        (httpx.ReadTimeout("no answer"), AmazonUnreachable),
        (httpx.RemoteProtocolError("dropped"), AmazonUnreachable),
    ],
)
def test_a_bounded_client_raises_amazons_failures_at_once(
    worker_client: SpApiClient,
    amazon: FakeAmazon,
    sleeps: list[float],
    failure: httpx.Response | Exception,
    error_type: type[AmazonError],
) -> None:
    amazon.queue(GET_ORDER, failure, httpx.Response(200, json={"order": order_json(1)}))
    with pytest.raises(error_type):
        worker_client.get_order("113-0000001-0000001")
    assert len(amazon.requests) == 1 and sleeps == []


def test_a_bounded_client_resends_a_request_that_never_left_once_and_at_once(
    worker_client: SpApiClient, amazon: FakeAmazon, sleeps: list[float]
) -> None:
    feeds = "/feeds/2021-06-30/feeds"
    amazon.queue(feeds, httpx.ConnectError("refused"), httpx.Response(202, json={"feedId": "F1"}))
    assert worker_client.create_feed("POST_ORDER_FULFILLMENT_DATA", ["ATVPDKIKX0DER"], "D1") == "F1"
    assert len(amazon.calls(feeds)) == 2 and sleeps == []

    amazon.queue(
        GET_ORDER,
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.Response(200, json={"order": order_json(1)}),
    )
    with pytest.raises(AmazonUnreachable) as caught:
        worker_client.get_order("113-0000001-0000001")
    assert caught.value.request_sent is False
    assert len(amazon.calls(GET_ORDER)) == 2 and sleeps == []


def test_a_bounded_client_still_refreshes_a_refused_token_once(
    worker_client: SpApiClient, amazon: FakeAmazon, sleeps: list[float]
) -> None:
    amazon.queue(
        SEARCH,
        amazon_error(403, "Unauthorized"),
        httpx.Response(200, json={"orders": []}),
    )
    worker_client.search_orders(last_updated_after=T0)
    assert [r.headers["x-amz-access-token"] for r in amazon.requests] == ["Atza|1", "Atza|2"]
    amazon.defaults[SEARCH] = amazon_error(403, "Unauthorized")
    with pytest.raises(AmazonAuthError):
        worker_client.search_orders(last_updated_after=T0)
    assert len(amazon.requests) == 4 and sleeps == []


def test_a_bounded_client_logs_throttling_at_info_a_patient_one_warns_of_its_backoff(
    worker_client: SpApiClient,
    client: SpApiClient,
    amazon: FakeAmazon,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    amazon.queue(SEARCH, amazon_error(429, "QuotaExceeded"))
    with pytest.raises(Throttled):
        worker_client.search_orders(last_updated_after=T0)
    amazon.queue(GET_ORDER, httpx.ConnectError("refused"), amazon_error(503, "Unavailable"))
    with pytest.raises(AmazonServerError):
        worker_client.get_order("113-0000001-0000001")
    assert caplog.records
    assert all(r.levelno <= logging.INFO for r in caplog.records)
    handed_back = [r for r in caplog.records if "handed back" in r.getMessage()]
    assert [r.__dict__["retry_after_s"] for r in handed_back] == [2.5, None]

    caplog.clear()
    amazon.queue(SEARCH, amazon_error(429, "QuotaExceeded"), httpx.Response(200, json={}))
    client.search_orders(last_updated_after=T0)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "spapi call will be retried"
    ]


def test_a_patient_client_leaves_the_wait_after_its_own_retries_to_the_caller(
    client: SpApiClient, amazon: FakeAmazon, sleeps: list[float]
) -> None:
    amazon.defaults[SEARCH] = amazon_error(429, "QuotaExceeded")
    with pytest.raises(Throttled) as caught:
        client.search_orders(last_updated_after=T0)
    assert caught.value.retry_after_s is None  # as before the bounded policy existed
    assert len(amazon.requests) == 6 and len(sleeps) == 5


def test_the_retry_policy_refuses_a_negative_wait() -> None:
    with pytest.raises(ValueError, match="max_wait_s"):
        RetryPolicy(max_wait_s=-1)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


READ = SpApiRequest(operation="orders2026.getOrder", method="GET", url="https://x/o/1")
CREATE_FEED = SpApiRequest(
    operation="feeds.createFeed", method="POST", url="https://x/f", idempotent=False
)
IMPATIENT = SpApiRequest(
    operation="orders2026.getOrder", method="GET", url="https://x/o/1", patient=False
)
THROTTLED = Throttled("slow down", status_code=429)
SERVER = AmazonServerError("busy", status_code=503)
LOST = AmazonUnreachable("read timeout", request_sent=True)
NEVER_LEFT = AmazonUnreachable("refused", request_sent=False)


@pytest.mark.parametrize(
    ("request_", "error", "reached", "patient_resends", "bounded_resends"),
    [
        (READ, THROTTLED, False, True, False),
        (READ, SERVER, True, True, False),
        (READ, LOST, True, True, False),
        (READ, NEVER_LEFT, False, True, True),
        (READ, InvalidInput("bad", status_code=400), False, False, False),
        (READ, AmazonAuthError("refused", status_code=403), False, False, False),
        (CREATE_FEED, SERVER, True, False, False),
        (CREATE_FEED, LOST, True, False, False),
        (CREATE_FEED, NEVER_LEFT, False, True, True),
        (CREATE_FEED, SERVER, False, True, False),  # the token endpoint's 5xx: nothing sent
        (IMPATIENT, THROTTLED, False, False, False),
        (IMPATIENT, NEVER_LEFT, False, False, False),
    ],
)
def test_the_retry_decision(
    request_: SpApiRequest,
    error: AmazonError,
    reached: bool,
    patient_resends: bool,
    bounded_resends: bool,
) -> None:
    patient = RetryPolicy(rng=random.Random(3))
    bounded = RetryPolicy(max_wait_s=2.0)
    delay = patient.delay(request_, error, 1, reached_amazon=reached, resent_unsent=False)
    assert (delay is not None) is patient_resends
    assert delay is None or 0 <= delay <= patient.backoff_base_s
    delay = bounded.delay(request_, error, 1, reached_amazon=reached, resent_unsent=False)
    assert (delay is not None) is bounded_resends
    assert delay in (None, 0.0)  # a worker slot never sleeps between attempts
    assert bounded.delay(request_, error, 1, reached_amazon=reached, resent_unsent=True) is None
    assert patient.delay(request_, error, 6, reached_amazon=reached, resent_unsent=False) is None
