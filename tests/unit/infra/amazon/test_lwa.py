"""Login with Amazon tokens: fetched once, shared through Redis, refreshed early, never shown."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import fakeredis
import httpx
import pytest
import redis

from infra.amazon.errors import (
    AmazonAuthError,
    AmazonPermanentError,
    AmazonServerError,
    AmazonUnreachable,
    Throttled,
)
from infra.amazon.lwa import LOCK_TTL_S, LOCK_WAIT_S, LwaCredentials, LwaTokenProvider

TOKEN_URL = "https://lwa.test/auth/o2/token"
SECRET = "sandbox-secret"
REFRESH = "Atzr|sandbox-demo-seller"
CREDENTIALS = LwaCredentials(
    client_id="amzn1.application-oa2-client.sandbox",
    client_secret=SECRET,  # pydantic makes it a SecretStr
    refresh_token=REFRESH,
)


class FakeLwa:
    """Amazon's token endpoint: hands out Atza|1, Atza|2, ... and records each form."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.forms: list[dict[str, list[str]]] = []
        self.failures: list[httpx.Response | Exception] = []
        self.while_answering: Callable[[], None] | None = None  # what other processes do meanwhile

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url == TOKEN_URL
        assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        self.forms.append(parse_qs(request.content.decode()))
        if self.while_answering is not None:
            self.while_answering()
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        body = {
            "access_token": f"Atza|{len(self.forms)}",
            "refresh_token": REFRESH,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }
        return httpx.Response(200, json=body)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def lwa() -> FakeLwa:
    return FakeLwa()


@pytest.fixture
def http(lwa: FakeLwa) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(lwa)) as client:
        yield client


@pytest.fixture
def cache() -> Iterator[redis.Redis]:
    client = fakeredis.FakeRedis()
    yield client
    client.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


ProviderFactory = Callable[..., LwaTokenProvider]


@pytest.fixture
def provider(http: httpx.Client, clock: Clock) -> ProviderFactory:
    def make(
        cache: redis.Redis | None = None, credentials: LwaCredentials = CREDENTIALS
    ) -> LwaTokenProvider:
        return LwaTokenProvider(
            TOKEN_URL, credentials, http, cache=cache, clock=clock, sleep=clock.sleep
        )

    return make


def test_the_refresh_token_is_exchanged_once_and_reused(
    provider: ProviderFactory, lwa: FakeLwa
) -> None:
    tokens = provider()
    assert tokens.access_token() == "Atza|1"
    assert tokens.access_token() == "Atza|1"
    assert lwa.forms == [
        {
            "grant_type": ["refresh_token"],
            "refresh_token": [REFRESH],
            "client_id": [CREDENTIALS.client_id],
            "client_secret": [SECRET],
        }
    ]


def test_the_token_is_refreshed_a_few_minutes_before_it_expires(
    provider: ProviderFactory, clock: Clock
) -> None:
    tokens = provider()
    assert tokens.access_token() == "Atza|1"
    clock.now += 3600 - 300 - 1
    assert tokens.access_token() == "Atza|1"
    clock.now += 2
    assert tokens.access_token() == "Atza|2"


def test_processes_sharing_redis_make_one_token_request(
    provider: ProviderFactory, cache: redis.Redis, lwa: FakeLwa
) -> None:
    first, second = provider(cache), provider(cache)
    assert first.access_token() == second.access_token() == "Atza|1"
    assert len(lwa.forms) == 1
    # The shared entry names no secret and disappears when the token stops being usable.
    (key,) = [k for k in cache.keys("*") if b"token" in k]
    assert SECRET.encode() not in key and REFRESH.encode() not in key
    assert 0 < cache.ttl(key) <= 3600 - 300


def test_another_seller_gets_its_own_token(
    provider: ProviderFactory, cache: redis.Redis, lwa: FakeLwa
) -> None:
    other = CREDENTIALS.model_copy(update={"refresh_token": CREDENTIALS.client_secret})
    assert provider(cache).access_token() == "Atza|1"
    assert provider(cache, other).access_token() == "Atza|2"
    assert CREDENTIALS.cache_id() != other.cache_id()


def test_invalidate_makes_the_next_call_refresh(
    provider: ProviderFactory, cache: redis.Redis, lwa: FakeLwa
) -> None:
    first, second = provider(cache), provider(cache)
    bad = first.access_token()
    first.invalidate(bad)
    assert first.access_token() == "Atza|2"
    # A late 403 for the old token must not throw away the fresh shared one.
    second.invalidate(bad)
    assert second.access_token() == "Atza|2"
    assert len(lwa.forms) == 2
    second.invalidate()
    assert first.access_token() == "Atza|2"  # still fresh in its own process
    assert second.access_token() == "Atza|3"


def test_a_process_waits_for_the_one_already_refreshing(
    http: httpx.Client, cache: redis.Redis, lwa: FakeLwa, clock: Clock
) -> None:
    refreshing = LwaTokenProvider(TOKEN_URL, CREDENTIALS, http, cache=cache, clock=clock)
    lock_key = f"amazon-channel:lwa:{CREDENTIALS.cache_id()}:refresh-lock"
    cache.set(lock_key, "someone-else")

    def other_process_finishes(seconds: float) -> None:
        clock.sleep(seconds)
        refreshing._store(refreshing._request_token())

    waiting = LwaTokenProvider(
        TOKEN_URL, CREDENTIALS, http, cache=cache, clock=clock, sleep=other_process_finishes
    )
    assert waiting.access_token() == "Atza|1"
    assert len(lwa.forms) == 1


def test_a_dead_lock_holder_does_not_block_forever(
    provider: ProviderFactory, cache: redis.Redis, lwa: FakeLwa, clock: Clock
) -> None:
    cache.set(f"amazon-channel:lwa:{CREDENTIALS.cache_id()}:refresh-lock", "died")
    started = clock.now
    assert provider(cache).access_token() == "Atza|1"
    assert clock.now - started >= LOCK_WAIT_S


LOCK_KEY = f"amazon-channel:lwa:{CREDENTIALS.cache_id()}:refresh-lock"


def test_a_late_releaser_cannot_drop_a_newer_holders_lock(
    provider: ProviderFactory, cache: redis.Redis, lwa: FakeLwa
) -> None:
    newer = cache.lock(LOCK_KEY, timeout=LOCK_TTL_S)

    def lock_expires_and_another_process_takes_it() -> None:
        assert cache.get(LOCK_KEY) is not None  # the refreshing process holds it
        cache.delete(LOCK_KEY)  # ... until its TTL runs out while Amazon is slow
        assert newer.acquire(blocking=False)

    lwa.while_answering = lock_expires_and_another_process_takes_it
    assert provider(cache).access_token() == "Atza|1"
    assert newer.owned()  # the late release left the newer holder's lock alone
    newer.release()


class RacingRedis(fakeredis.FakeRedis):
    """Lets a newer holder take the refresh lock right after any command on it, once armed: the
    worst interleaving another process can bring. A release by GET-then-DEL loses to it."""

    armed = False

    def execute_command(self, *args: Any, **options: Any) -> Any:
        result = super().execute_command(*args, **options)
        if self.armed and LOCK_KEY in (a.decode() if isinstance(a, bytes) else a for a in args):
            self.armed = False
            super().execute_command("SET", LOCK_KEY, "newer-holder")
        return result


def test_the_lock_is_released_by_one_compare_and_delete(
    provider: ProviderFactory, lwa: FakeLwa
) -> None:
    racing = RacingRedis()

    def arm() -> None:
        racing.armed = True  # the refresher holds the lock; the race starts at its next move

    lwa.while_answering = arm
    assert provider(racing).access_token() == "Atza|1"
    assert racing.get(LOCK_KEY) == b"newer-holder"
    racing.close()


@pytest.mark.parametrize(
    ("failure", "error_type"),
    [
        (
            httpx.Response(400, json={"error": "invalid_grant", "error_description": "revoked"}),
            AmazonAuthError,
        ),
        (httpx.Response(401, json={"error": "invalid_client"}), AmazonAuthError),
        (httpx.Response(429, text="slow down"), Throttled),
        (httpx.Response(503, text="unavailable"), AmazonServerError),
        (httpx.Response(200, json={"token_type": "bearer"}), AmazonServerError),
        (httpx.ConnectError("refused"), AmazonUnreachable),
    ],
)
def test_token_endpoint_failures_map_onto_the_error_tree(
    provider: ProviderFactory,
    lwa: FakeLwa,
    failure: httpx.Response | Exception,
    error_type: type[Exception],
) -> None:
    lwa.failures.append(failure)
    with pytest.raises(error_type) as caught:
        provider().access_token()
    assert SECRET not in str(caught.value) and REFRESH not in str(caught.value)
    if isinstance(caught.value, AmazonAuthError):
        assert isinstance(caught.value, AmazonPermanentError)
        assert caught.value.code in {"invalid_grant", "invalid_client"}
    if isinstance(caught.value, AmazonUnreachable):
        assert caught.value.request_sent is False


def test_secrets_never_show_in_reprs_or_logs(
    provider: ProviderFactory, cache: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = provider(cache)
    token = tokens.access_token()
    shown = [repr(CREDENTIALS), str(CREDENTIALS), repr(tokens)]
    for record in caplog.records:
        shown.append(record.getMessage())
        shown.append(repr(record.__dict__))
    for text in shown:
        assert SECRET not in text
        assert REFRESH not in text
        assert token not in text
