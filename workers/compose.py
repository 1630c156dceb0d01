"""The composition root: builds settings, the engine, Redis and HTTP clients once per process.

Nothing is built at import. A prefork worker child builds its own on first use (connections must
not cross a fork), and ``reset()`` runs in each new child to drop anything inherited.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

import httpx
import redis
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.ingestion import Cursor, SyncReport, sync_orders
from infra.amazon.client import SpApiClient, build_client
from infra.amazon.gateways import SpApiOrdersSource
from infra.amazon.lwa import LwaCredentials
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.clock import SystemClock
from infra.db.accounts import AccountView, get_account, list_accounts
from infra.db.engine import make_engine, make_session_factory
from infra.db.ingestion import SqlIngestionStore
from infra.settings import Region, Settings, load_settings


@dataclass
class Container:
    settings: Settings
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _clients: dict[int, SpApiClient] = field(default_factory=dict)

    @cached_property
    def engine(self) -> Engine:
        if not self.settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (the supervisor sets it for embedded runs)")
        return make_engine(self.settings.database_url, application_name="amazon-channel-worker")

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def redis(self) -> redis.Redis:
        url = self.settings.redis_url or self.settings.broker_url
        if not url.startswith(("redis", "unix")):
            raise RuntimeError("REDIS_URL is not set (the rate limiter needs Redis)")
        return redis.Redis.from_url(url, socket_timeout=10, health_check_interval=25)

    @cached_property
    def webhook_http(self) -> httpx.Client:
        return httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)

    def amazon_client(self, account: AccountView) -> SpApiClient:
        """One client per account per process: its token cache and connection pool are reused."""
        with self._lock:
            client = self._clients.get(account.id)
            if client is None:
                # The account's region picks the endpoint; the sandbox has its own app secret.
                settings = self.settings.model_copy(
                    update={"amazon_region": Region(account.region)}
                )
                secret = settings.lwa_client_secret.get_secret_value()
                if settings.uses_sandbox() and not secret:
                    secret = DEMO_SELLER.client_secret
                credentials = LwaCredentials(
                    client_id=account.lwa_client_id or settings.lwa_client_id,
                    client_secret=SecretStr(secret),
                    refresh_token=SecretStr(account.lwa_refresh_token),
                )
                client = build_client(
                    settings,
                    seller_key=f"{account.selling_partner_id}:{account.region}",
                    credentials=credentials,
                    redis_client=self.redis,
                )
                self._clients[account.id] = client
            return client

    def amazon_client_for(self, account_id: int) -> SpApiClient:
        """``amazon_client`` by account id: the account is read from the store only when this
        process has no client for it yet (a cached client never looks at the account again)."""
        with self._lock:
            client = self._clients.get(account_id)
        if client is not None:
            return client
        return self.amazon_client(get_account(self.sessions, account_id))

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if "engine" in self.__dict__:
            self.engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()
        if "webhook_http" in self.__dict__:
            self.webhook_http.close()


_container: Container | None = None
_container_lock = threading.Lock()


def container() -> Container:
    """This process's container, built on first use."""
    global _container
    with _container_lock:
        if _container is None:
            _container = Container(load_settings())
        return _container


def use(settings: Settings) -> Container:
    """Replace this process's container (the CLI and tests pass their own settings)."""
    global _container
    with _container_lock:
        if _container is not None:
            _container.close()
        _container = Container(settings)
        return _container


def reset() -> None:
    """Forget what a parent process built; called in each new worker child."""
    global _container
    with _container_lock:
        _container = None


def active_account_ids() -> list[int]:
    return [a.id for a in list_accounts(container().sessions, active_only=True)]


def sync_account(
    account_ref: int | str,
    *,
    scope: str = "orders",
    start: datetime | None = None,
    on_page: Callable[[SyncReport, Cursor], None] | None = None,
) -> SyncReport:
    """One sync window of one account (a backfill is the same walk in its own scope)."""
    c = container()
    account = get_account(c.sessions, account_ref)
    client = c.amazon_client(account)
    with SpApiOrdersSource(client, page_size=c.settings.sync_page_size) as source:
        return sync_orders(
            account_id=account.id,
            source=source,
            store=SqlIngestionStore(c.engine, c.sessions),
            clock=SystemClock(),
            scope=scope,
            overlap=timedelta(seconds=c.settings.sync_overlap_seconds),
            start=start,
            on_page=on_page,
        )


def transient_errors() -> tuple[type[BaseException], ...]:
    """What a task retries: lost connections, serialization failures, Amazon's transient errors."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from infra.amazon.errors import AmazonTransientError

    return (
        OperationalError,
        DBAPIError,
        redis.ConnectionError,
        redis.TimeoutError,
        httpx.TransportError,
        AmazonTransientError,
    )


def reset_and_close() -> None:
    """Close what this process built (the CLI, at the end of a command)."""
    global _container
    with _container_lock:
        if _container is not None:
            _container.close()
        _container = None
