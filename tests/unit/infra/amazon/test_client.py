"""The client's face: ``build_client`` configured by settings only, and the families behind it."""

from __future__ import annotations

import fakeredis

from infra.amazon.client import build_client
from infra.amazon.ratelimit import InProcessRateLimiter, NoRateLimiter, RedisRateLimiter
from infra.settings import Region, load_settings
from tests.unit.infra.amazon.fake_spapi import CREDENTIALS, SELLER, TOKEN_URL


def test_build_client_is_configured_by_settings_only() -> None:
    redis_client = fakeredis.FakeRedis()
    sandbox = load_settings(sandbox_port=9999, sandbox_rate_factor=50, rate_safety=0.8)
    client = build_client(sandbox, SELLER, CREDENTIALS, redis_client)
    assert client.endpoint == "http://127.0.0.1:9999"
    assert client.tokens.token_url == "http://127.0.0.1:9999/auth/o2/token"
    assert isinstance(client.limiter, RedisRateLimiter)
    assert (client.limiter.rate_factor, client.limiter.safety) == (50, 0.8)
    timeout = client.http.timeout
    assert (timeout.connect, timeout.read) == (sandbox.http_connect_timeout, 30.0)
    client.close()

    lifted = build_client(load_settings(sandbox_rate_factor=0), SELLER, CREDENTIALS, redis_client)
    assert isinstance(lifted.limiter, NoRateLimiter)
    lifted.close()

    europe = build_client(load_settings(amazon_region=Region.EU), SELLER, CREDENTIALS, None)
    assert europe.endpoint == "https://sellingpartnerapi-eu.amazon.com"
    assert europe.tokens.token_url == TOKEN_URL
    assert isinstance(europe.limiter, InProcessRateLimiter)
    assert europe.limiter.rate_factor == 1.0
    europe.close()


def test_build_client_is_patient_unless_told_how_long_a_worker_may_wait() -> None:
    settings = load_settings(amazon_region=Region.EU)
    with build_client(settings, SELLER, CREDENTIALS) as patient:
        assert patient.max_wait_s is None and not patient.retry.bounded
    with build_client(settings, SELLER, CREDENTIALS, None, max_wait_s=2.0) as worker:
        assert worker.max_wait_s == 2.0 and worker.retry.bounded


def test_every_family_speaks_through_the_one_transport() -> None:
    with build_client(load_settings(amazon_region=Region.EU), SELLER, CREDENTIALS) as client:
        transport = client.transport
        assert client.orders.transport is transport and client.orders_v0.transport is transport
        assert client.feeds.transport is transport and client.reports.transport is transport
        assert client.documents.transport is transport
        client.backoff_base_s = 0.05  # the integration tests shorten the backoff like this
        assert client.transport.retry.backoff_base_s == 0.05
        assert "secret" not in repr(client) and SELLER in repr(client)
