"""The LWA refresh lock on a real Redis: a holder whose lock ran out while Amazon was slow
cannot release the lock a newer holder has taken since."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis
from pydantic import SecretStr

from infra.amazon.lwa import LOCK_TTL_S, LwaCredentials, LwaTokenProvider

pytestmark = pytest.mark.integration

TOKEN_URL = "https://lwa.test/auth/o2/token"


@pytest.fixture
def credentials() -> LwaCredentials:
    """A seller of its own, so no token or lock of another test is in the way."""
    return LwaCredentials(
        client_id="amzn1.application-oa2-client.sandbox",
        client_secret=SecretStr("sandbox-secret"),
        refresh_token=SecretStr(f"Atzr|{uuid.uuid4().hex}"),
    )


def lock_key(credentials: LwaCredentials) -> str:
    return f"amazon-channel:lwa:{credentials.cache_id()}:refresh-lock"


def token_endpoint(while_answering: Callable[[], None]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        while_answering()
        return httpx.Response(200, json={"access_token": "Atza|1", "expires_in": 3600})

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_a_late_releaser_cannot_drop_a_newer_holders_lock(
    redis_client: redis.Redis, credentials: LwaCredentials
) -> None:
    key = lock_key(credentials)
    newer = redis_client.lock(key, timeout=LOCK_TTL_S)

    def lock_expires_and_another_process_takes_it() -> None:
        assert 0 < redis_client.pttl(key) <= LOCK_TTL_S * 1000  # held, and it would expire
        redis_client.delete(key)  # ... as it does when Amazon is slower than its TTL
        assert newer.acquire(blocking=False)

    with token_endpoint(lock_expires_and_another_process_takes_it) as http:
        tokens = LwaTokenProvider(TOKEN_URL, credentials, http, cache=redis_client)
        assert tokens.access_token() == "Atza|1"
    assert newer.owned()
    newer.release()
    redis_client.delete(f"amazon-channel:lwa:{credentials.cache_id()}:token")


class RacingRedis(redis.Redis):
    """Lets a newer holder take the refresh lock right after any command on it, once armed: the
    worst interleaving another process can bring. A release by GET-then-DEL loses to it."""

    armed = False
    key = ""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        result = super().execute_command(*args, **options)
        if self.armed and self.key in (a.decode() if isinstance(a, bytes) else a for a in args):
            self.armed = False
            super().execute_command("SET", self.key, "newer-holder")
        return result


def test_the_lock_is_released_by_one_compare_and_delete(
    redis_url: str, credentials: LwaCredentials
) -> None:
    racing = RacingRedis.from_url(redis_url)
    assert isinstance(racing, RacingRedis)
    racing.key = lock_key(credentials)

    def arm() -> None:
        racing.armed = True  # the refresher holds the lock; the race starts at its next move

    with token_endpoint(arm) as http:
        assert LwaTokenProvider(TOKEN_URL, credentials, http, cache=racing).access_token()
    assert racing.get(racing.key) == b"newer-holder"
    racing.delete(racing.key, f"amazon-channel:lwa:{credentials.cache_id()}:token")
    racing.close()
