"""The composition root: one ``Container`` per process builds settings, the engine, Redis, HTTP
clients, the clock, the stores and the Amazon gateways, each once, on first use.

Tasks, the web process and the CLI ask it (``container().fulfilment_store``) and never build
their own. Nothing is built at import. A prefork worker child builds its own on first use
(connections must not cross a fork): ``reset()`` runs in each new child to drop what it inherited.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

import httpx
import redis
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.ingestion import (
    Cursor,
    SearchBudget,
    SyncReport,
    backfill_from_reports,
    sync_orders,
)
from domain.shared import Clock
from infra.amazon.client import SpApiClient, build_client, new_http, new_limiter
from infra.amazon.errors import AmazonAuthError
from infra.amazon.gateways import SpApiFeeds, SpApiFinances, SpApiOrdersSource, SpApiShipments
from infra.amazon.gateways.order_reads import SpApiOrderReader
from infra.amazon.gateways.order_reports import SpApiOrderReports
from infra.amazon.gateways.settlements import SpApiSettlements
from infra.amazon.lwa import OPERATION as LWA_OPERATION
from infra.amazon.lwa import LwaCredentials
from infra.amazon.ratelimit import RateLimiter, RedisRateLimiter
from infra.clock import SystemClock
from infra.db.accounts import AccountView, get_account, list_accounts
from infra.db.accounts_changes import pause_account
from infra.db.calls import CallRecorder, record_engine
from infra.db.deliveries import SqlDeliveries
from infra.db.engine import make_engine, make_session_factory
from infra.db.feeds import SqlSubmissionStore
from infra.db.fulfilments import SqlFulfilmentStore
from infra.db.ingestion import SqlIngestionStore
from infra.db.notifications import SqlNotificationStore
from infra.db.payouts import SqlPayoutStore
from infra.db.refunds import RefundFeedMessages, SqlRefundStore
from infra.platform import payloads
from infra.secrets import Keyring, open_stored, process_keyring, use_settings
from infra.settings import Region, Settings, load_settings
from workers.windows import last_window, overlap_fitter, remember_window

# A worker waits this long at most for a token of the shared rate budget; a longer wait is
# raised with ``retry_after_s`` and becomes the task's countdown (``workers.base``), so a
# throttled seller never holds a worker slot.
WORKER_MAX_WAIT_S = 2.0
# Login with Amazon's answers that say the account's credentials are wrong, not the moment.
REFUSED_CREDENTIALS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
# The operation a sync spends, and whose budget sets when the next one is due.
SEARCH_ORDERS = "orders2026.searchOrders"
log = logging.getLogger(__name__)


@dataclass
class Container:
    """What one process builds once. ``patient``: a command run by a person (the CLI, the demo)
    waits for Amazon's rate budget as long as it takes; a worker (``patient=False``) waits at
    most ``WORKER_MAX_WAIT_S`` and lets its task be retried."""

    settings: Settings
    patient: bool = False
    given_clock: Clock | None = None  # a test's clock; the system's when None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Least recently used first; bounded by ``settings.amazon_client_cache_size``.
    _clients: OrderedDict[int, SpApiClient] = field(default_factory=OrderedDict)
    # One limiter per rate setting (the sandbox's factor, Amazon's own), shared by every seller.
    _limiters: dict[bool, RateLimiter] = field(default_factory=dict)
    _seller_ids: dict[int, str] = field(default_factory=dict)
    # The credentials each cached client was built from: an edit of them rebuilds it.
    _built_from: dict[int, tuple[str, str | None, str]] = field(default_factory=dict)

    @property
    def max_wait_s(self) -> float | None:
        """How long an SP-API call may wait for a token (None: as long as it takes)."""
        return None if self.patient else WORKER_MAX_WAIT_S

    @cached_property
    def clock(self) -> Clock:
        return self.given_clock or SystemClock()

    @property
    def keyring(self) -> Keyring:
        """The keys that seal and open stored secrets (``infra.secrets``), read on first use."""
        return process_keyring()

    @cached_property
    def engine(self) -> Engine:
        if not self.settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (the supervisor sets it for embedded runs)")
        return make_engine(self.settings.database_url, application_name="amazon-channel-worker")

    @cached_property
    def call_record_engine(self) -> Engine:
        """The SP-API call record's own small autocommit pool (``infra.db.calls``)."""
        return record_engine(self.settings.database_url)

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
    def amazon_http(self) -> httpx.Client:
        """Every seller's SP-API calls: one SSL context and one connection pool per process."""
        return new_http(self.settings)

    @cached_property
    def webhook_http(self) -> httpx.Client:
        return httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)

    @cached_property
    def ingestion_store(self) -> SqlIngestionStore:
        return SqlIngestionStore(self.engine, self.sessions, payloads.encode)

    @cached_property
    def notification_store(self) -> SqlNotificationStore:
        """Notifications taken in, and the order refreshes they ask for."""
        return SqlNotificationStore(self.engine, self.sessions, payloads.encode)

    @cached_property
    def order_reader(self) -> SpApiOrderReader:
        """getOrder for every account, impatient (a refresh waits in the store, not a worker)."""
        return SpApiOrderReader(self.amazon_client_for)

    @cached_property
    def fulfilment_store(self) -> SqlFulfilmentStore:
        return SqlFulfilmentStore(self.engine, self.sessions, payloads.encode)

    @cached_property
    def refund_store(self) -> SqlRefundStore:
        """Refunds and cancellations: intake, views, refused queue requests."""
        return SqlRefundStore(self.engine, self.sessions, payloads.encode)

    @cached_property
    def submission_store(self) -> SqlSubmissionStore:
        """Feed submissions; the refunds they carry move in their transactions."""
        return SqlSubmissionStore(self.engine, RefundFeedMessages(payloads.encode))

    @cached_property
    def feeds(self) -> SpApiFeeds:
        """The order feeds for every account (documents, createFeed, reports, getFeeds)."""
        return SpApiFeeds(self.amazon_client_for, self.seller_id_for, clock=self.clock)

    @cached_property
    def payout_store(self) -> SqlPayoutStore:
        """Settlements, their lines and statements."""
        return SqlPayoutStore(self.engine, payloads.encode)

    @cached_property
    def settlements(self) -> SpApiSettlements:
        """Amazon's settlement reports for every account, listed and streamed."""
        return SpApiSettlements(self.amazon_client_for)

    @cached_property
    def finances(self) -> SpApiFinances:
        """Amazon's refunds as Finances v0 posts them, for every account."""
        return SpApiFinances(self.amazon_client_for)

    def seller_id_for(self, account_id: int) -> str:
        """The account's selling partner id (a feed's ``MerchantIdentifier``), read once."""
        with self._lock:
            known = self._seller_ids.get(account_id)
        if known is None:
            known = get_account(self.sessions, account_id).selling_partner_id
            with self._lock:
                self._seller_ids[account_id] = known
        return known

    @cached_property
    def deliveries(self) -> SqlDeliveries:
        """The outbox's deliveries, for the relay."""
        return SqlDeliveries(self.sessions)

    @cached_property
    def shipments(self) -> SpApiShipments:
        """Confirmations and read-backs for every account, each through its seller's client."""
        return SpApiShipments(self.amazon_client_for)

    def orders_source(self, account: AccountView) -> SpApiOrdersSource:
        """A new source per sync (it owns the thread that fetches the next page ahead); close
        it with ``with``."""
        return SpApiOrdersSource(
            self.amazon_client(account), page_size=self.settings.sync_page_size
        )

    def amazon_client(self, account: AccountView) -> SpApiClient:
        """One client per account per process, the ``amazon_client_cache_size`` most recently
        used kept. A dropped client is not closed (a task may still hold it); it owns nothing
        to close unless ``amazon_shared_http`` is off, and then the collector closes it."""
        with self._lock:
            client = self._clients.get(account.id)
            built_from = (account.lwa_refresh_token, account.lwa_client_id, account.region)
            if client is not None and self._built_from.get(account.id, built_from) != built_from:
                # The account's credentials or region were edited since: build it anew (the old
                # one is not closed: a task may still hold it).
                self._clients.pop(account.id, None)
                client = None
            if client is not None:
                self._clients.move_to_end(account.id)
                return client
            client = self._build_client(account)
            if self.settings.amazon_client_cache_size > 0:
                self._clients[account.id] = client
                self._built_from[account.id] = built_from
                while len(self._clients) > self.settings.amazon_client_cache_size:
                    dropped, _ = self._clients.popitem(last=False)
                    self._built_from.pop(dropped, None)
            return client

    def _build_client(self, account: AccountView) -> SpApiClient:
        # The account's region picks the endpoint (and, for the sandbox, its demo app).
        settings = self._account_settings(account)
        credentials = LwaCredentials(
            client_id=account.lwa_client_id or settings.lwa_app_client_id(),
            client_secret=settings.lwa_app_client_secret(),
            # Opened here only, where it is used: the view carries what the store holds.
            refresh_token=SecretStr(
                open_stored(
                    account.lwa_refresh_token, what=f"the refresh token of account {account.name!r}"
                )
            ),
        )
        client = build_client(
            settings,
            seller_key=seller_key(account),
            credentials=credentials,
            redis_client=self.redis,
            max_wait_s=self.max_wait_s,
            http=self.amazon_http if self.settings.amazon_shared_http else None,
            limiter=self._limiter(settings),
        )
        # ``orders timeline``'s record of calls (a process with no store records nothing).
        if settings.spapi_call_retention_days > 0 and settings.database_url:
            client.transport.observers.append(
                CallRecorder(
                    self.call_record_engine,
                    account.id,
                    retention_days=settings.spapi_call_retention_days,
                    task_of=current_task_of,
                )
            )
        return client

    def _account_settings(self, account: AccountView) -> Settings:
        return self.settings.model_copy(update={"amazon_region": Region(account.region)})

    def _limiter(self, settings: Settings) -> RateLimiter:
        """The process's limiter for an account's settings (called under ``_lock``)."""
        sandbox = settings.uses_sandbox()
        limiter = self._limiters.get(sandbox)
        if limiter is None:
            limiter = self._limiters[sandbox] = new_limiter(settings, self.redis)
        return limiter

    def search_budgets(self, accounts: Sequence[AccountView]) -> list[SearchBudget | None]:
        """Each account's ``searchOrders`` budget now, nothing taken (None: no limit applies)."""
        with self._lock:
            limiters = [self._limiter(self._account_settings(a)) for a in accounts]
        budgets: list[SearchBudget | None] = [None] * len(accounts)
        by_limiter: dict[int, list[int]] = {}
        for n, limiter in enumerate(limiters):
            if isinstance(limiter, RedisRateLimiter):
                by_limiter.setdefault(id(limiter), []).append(n)
        for positions in by_limiter.values():
            limiter = limiters[positions[0]]
            assert isinstance(limiter, RedisRateLimiter)
            keys = [seller_key(accounts[n]) for n in positions]
            for n, budget in zip(positions, limiter.peek(keys, SEARCH_ORDERS), strict=True):
                budgets[n] = budget
        return budgets

    def amazon_client_for(self, account_id: int) -> SpApiClient:
        """``amazon_client`` by account id: the account is read from the store only when this
        process has no client for it yet (a cached client never looks at the account again)."""
        with self._lock:
            client = self._clients.get(account_id)
            if client is not None:
                self._clients.move_to_end(account_id)
                return client
        return self.amazon_client(get_account(self.sessions, account_id))

    def forget_client(self, account_id: int) -> None:
        """Drop the account's client (its credentials were refused: a later sync builds a new
        one from the account as it is then)."""
        with self._lock:
            client = self._clients.pop(account_id, None)
            self._built_from.pop(account_id, None)
        if client is not None:
            client.close()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if "engine" in self.__dict__:
            self.engine.dispose()
        if "call_record_engine" in self.__dict__:
            self.call_record_engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()
        if "webhook_http" in self.__dict__:
            self.webhook_http.close()
        if "amazon_http" in self.__dict__:
            self.amazon_http.close()


_container: Container | None = None
_container_lock = threading.Lock()


def container() -> Container:
    """This process's container, built on first use from the environment (a worker's)."""
    global _container
    with _container_lock:
        if _container is None:
            _container = Container(load_settings())
        return _container


def use(settings: Settings, *, patient: bool = True, clock: Clock | None = None) -> Container:
    """Replace this process's container: the CLI, the demo and tests pass their own settings
    (tests also their own clock). Such a process is a person's command, so it waits for
    Amazon's budget unless told not to."""
    global _container
    with _container_lock:
        if _container is not None:
            _container.close()
        _container = Container(settings, patient=patient, given_clock=clock)
        use_settings(settings)
        return _container


def reset() -> None:
    """Forget what a parent process built; called in each new worker child."""
    global _container
    with _container_lock:
        _container = None
    use_settings(None)


def reset_and_close() -> None:
    """Close what this process built (the CLI, at the end of a command)."""
    global _container
    with _container_lock:
        if _container is not None:
            _container.close()
        _container = None
    use_settings(None)


def current_task_of() -> tuple[str | None, str | None]:
    """The Celery task this thread runs (name, id), or (None, None) outside one."""
    from celery import current_task

    task = current_task._get_current_object()
    if task is None:
        return None, None
    return task.name, task.request.id


def seller_key(account: AccountView) -> str:
    """The name of the account's rate budget: its seller in its region."""
    return f"{account.selling_partner_id}:{account.region}"


def active_accounts() -> list[AccountView]:
    """The accounts beat syncs: active and connected (a disconnected one sends nothing)."""
    return list_accounts(container().sessions, active_only=True, connected_only=True)


def active_account_ids() -> list[int]:
    return [a.id for a in active_accounts()]


def sync_account(
    account_ref: int | str,
    *,
    scope: str = "orders",
    start: datetime | None = None,
    on_page: Callable[[SyncReport, Cursor], None] | None = None,
) -> SyncReport:
    """One sync window of one account, by id or name (a backfill is the same walk in its own
    scope)."""
    c = container()
    account = get_account(c.sessions, account_ref)
    if not account.reaches_amazon:  # queued before it was disconnected, disabled or paused
        return SyncReport(skipped=True, problems=[f"the account is {account.status}"])
    last = last_window(c.redis, account.id, scope)  # a busy seller's overlap fits one page
    try:
        with c.orders_source(account) as source:
            report = sync_orders(
                account_id=account.id,
                source=source,
                store=c.ingestion_store,
                clock=c.clock,
                scope=scope,
                overlap=timedelta(seconds=c.settings.sync_overlap_seconds),
                start=start or account.sync_since,  # a new account's first sync: --since
                on_page=on_page,
                fit_overlap=overlap_fitter(c.settings, last, c.clock.now()),
            )
        remember_window(c.redis, account.id, scope, report)
        return report
    except AmazonAuthError as exc:
        reason = refused_credentials(exc)
        if reason is None:
            raise
        # Retrying cannot help: paused until a person enables it or gives new credentials.
        pause_account(c.sessions, account.id, reason)
        c.forget_client(account.id)
        log.warning(
            "account paused: Login with Amazon refused its credentials",
            extra={"account_id": account.id, "reason": reason},
        )
        return SyncReport(skipped=True, problems=[f"paused: {reason}"])


def backfill_from_order_reports(
    account_ref: int | str,
    *,
    since: datetime,
    until: datetime,
    on_batch: Callable[[SyncReport, str, datetime], None] | None = None,
    on_wait: Callable[[str, float], None] | None = None,
) -> SyncReport:
    """History of one account through order reports (``domain.ingestion.backfill``), each of
    its marketplaces in turn, stored through the sync's own page writes."""
    c = container()
    account = get_account(c.sessions, account_ref)
    if not account.reaches_amazon:
        return SyncReport(skipped=True, problems=[f"the account is {account.status}"])
    return backfill_from_reports(
        account_id=account.id,
        reports=SpApiOrderReports(c.amazon_client(account), on_wait=on_wait),
        store=c.ingestion_store,
        clock=c.clock,
        marketplace_ids=account.marketplace_ids,
        since=since,
        until=until,
        on_batch=on_batch,
    )


def refused_credentials(exc: AmazonAuthError) -> str | None:
    """Login with Amazon's reason when it refused the account's credentials (a revoked or
    wrong refresh token, an unknown client), or None for any other refusal."""
    if exc.operation != LWA_OPERATION or exc.code not in REFUSED_CREDENTIALS:
        return None
    return f"{exc.code}: {exc.message.removeprefix('LWA token request failed: ')}"
