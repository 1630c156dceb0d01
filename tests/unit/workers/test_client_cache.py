"""The container's SP-API clients: one HTTP client and one limiter per process serve every
seller, each seller keeps its own token provider and budget name, and the cache of clients is
bounded (least recently used dropped first)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.amazon.ratelimit import NoRateLimiter, RedisRateLimiter
from infra.db.accounts import AccountView
from infra.settings import Settings
from workers import bootstrap

NOWHERE_REDIS = "redis://127.0.0.1:1/0"  # never connected to: building a client sends nothing


def _account(n: int, region: str = "SANDBOX") -> AccountView:
    return AccountView(
        id=n,
        name=f"seller-{n}",
        selling_partner_id=f"A{n:05d}",
        region=region,
        marketplace_ids=("ATVPDKIKX0DER",),
        lwa_client_id=None,
        lwa_refresh_token=f"Atzr|{n}",
        active=True,
    )


@pytest.fixture
def fresh() -> Iterator[None]:
    bootstrap.reset_and_close()
    yield
    bootstrap.reset_and_close()


def _container(**settings: object) -> bootstrap.Container:
    return bootstrap.use(Settings(redis_url=NOWHERE_REDIS, **settings), patient=False)  # type: ignore[arg-type]


def test_every_seller_shares_the_processs_http_client_and_limiter(fresh: None) -> None:
    c = _container()
    one, two = c.amazon_client(_account(1)), c.amazon_client(_account(2))
    assert one.http is two.http is c.amazon_http
    assert one.tokens._http is c.amazon_http, "the token endpoint too"
    assert one.limiter is two.limiter and isinstance(one.limiter, RedisRateLimiter)
    assert one.tokens is not two.tokens, "each seller's LWA token stays its own"
    assert (one.seller_key, two.seller_key) == ("A00001:SANDBOX", "A00002:SANDBOX")
    one.close()
    assert not c.amazon_http.is_closed, "a client does not close the process's HTTP client"
    c.close()
    assert c.amazon_http.is_closed


def test_an_amazon_region_gets_amazons_limiter_not_the_sandboxs(fresh: None) -> None:
    c = _container(sandbox_rate_factor=0)
    sandbox, amazon = c.amazon_client(_account(1)), c.amazon_client(_account(2, region="EU"))
    assert isinstance(sandbox.limiter, NoRateLimiter), "the sandbox's limits are lifted"
    assert isinstance(amazon.limiter, RedisRateLimiter) and amazon.limiter.rate_factor == 1
    assert amazon.http is sandbox.http


def test_the_cache_keeps_the_most_recently_used_clients(fresh: None) -> None:
    c = _container(amazon_client_cache_size=2)
    first, second = c.amazon_client(_account(1)), c.amazon_client(_account(2))
    assert c.amazon_client(_account(1)) is first  # 1 is now the most recently used
    c.amazon_client(_account(3))  # drops 2
    assert c.amazon_client(_account(1)) is first
    assert c.amazon_client_for(3) is c.amazon_client(_account(3))
    assert c.amazon_client(_account(2)) is not second, "dropped, built again"


def test_a_cache_of_zero_and_no_shared_http_is_the_old_client_per_use(fresh: None) -> None:
    c = _container(amazon_client_cache_size=0, amazon_shared_http=False)
    one, again = c.amazon_client(_account(1)), c.amazon_client(_account(1))
    assert one is not again and one.http is not again.http
    assert one.owns_http and "amazon_http" not in c.__dict__
    one.close()
    again.close()
    assert one.http.is_closed
