"""Settings: the one place that reads the environment.

Nothing reads ``os.environ`` elsewhere (the supervisor only copies it into its children's own
environments) and nothing writes it: everything asks for a ``Settings`` built by
``load_settings()`` (at a process edge, never at import time) or handed down by the caller.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"
    SANDBOX = "SANDBOX"


SPAPI_ENDPOINTS: dict[Region, str] = {
    Region.NA: "https://sellingpartnerapi-na.amazon.com",
    Region.EU: "https://sellingpartnerapi-eu.amazon.com",
    Region.FE: "https://sellingpartnerapi-fe.amazon.com",
}
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 (a URL, not a secret)
# The sandbox's published demo app (it plays Login with Amazon for it): the LWA app credentials
# against the sandbox when none are given. Not secrets; they open nothing but the sandbox.
SANDBOX_APP_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
SANDBOX_APP_CLIENT_SECRET = "sandbox-secret"  # noqa: S105

PROJECT_NAME = "amazon-channel"
DATA_FOLDER_NAME = ".amazon-channel"


def project_root(start: Path) -> Path | None:
    """The checkout holding ``start``: the nearest folder above it whose ``pyproject.toml``
    names this project. None for an installed copy (site-packages holds no such file)."""
    for folder in start.resolve().parents:
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            continue
        try:
            name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if name == PROJECT_NAME:
            return folder
    return None


def default_data_dir(start: Path = Path(__file__)) -> Path:
    """Where the embedded servers keep their data when ``DATA_DIR`` is not set: the checkout's
    ``.amazon-channel`` (found from this file, not the working directory, so a command run from
    any folder finds the same database), else the user's data directory."""
    root = project_root(start)
    if root is not None:
        return root / DATA_FOLDER_NAME
    return platformdirs.user_data_path(PROJECT_NAME)


class Settings(BaseSettings):
    """Every knob, with the environment variable that sets it (the field name in capitals)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # Stores. Empty means "the servers of a running ``amazon-channel run`` in DATA_DIR, else
    # start the embedded ones there".
    database_url: str = ""
    broker_url: str = ""
    redis_url: str = ""
    data_dir: Path = Field(default_factory=default_data_dir)

    # Amazon. With no LWA credentials the project talks to its own sandbox.
    amazon_region: Region = Region.SANDBOX
    spapi_endpoint: str = ""  # overrides the region's endpoint (the sandbox sets it)
    lwa_token_url: str = ""  # overrides Amazon's token endpoint (the sandbox sets it)
    lwa_client_id: str = ""
    lwa_client_secret: SecretStr = SecretStr("")
    http_connect_timeout: float = 5.0
    http_read_timeout: float = 30.0
    # Fraction of Amazon's published rate the client allows itself (headroom against jitter).
    rate_safety: float = Field(default=0.9, gt=0, le=1)
    # SP-API clients (one per account) a process keeps, least recently used dropped first;
    # 0 builds one per use. Every client shares the process's one HTTP client unless
    # AMAZON_SHARED_HTTP is false (one per client: the old behaviour, for the benchmark).
    amazon_client_cache_size: int = Field(default=5000, ge=0)
    amazon_shared_http: bool = True

    # The sandbox.
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8765
    # Multiplies every sandbox rate (and refill). 0 lifts the limits entirely.
    sandbox_rate_factor: float = Field(default=1.0, ge=0)
    demo_orders_per_minute: float = 12.0
    # Under `make run`: the demo sellers' settlement periods close this often (Amazon: 14 days).
    demo_settlement_minutes: float = Field(default=10.0, ge=0)

    # The web process (API, metrics, health).
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    web_workers: int = Field(default=2, ge=1)  # uvicorn processes (one per core is a good start)
    api_tokens: str = ""  # comma-separated bearer tokens for the platform's calls
    # The operator page's session cookies are signed with it (empty: a key generated once and
    # kept in DATA_DIR); a session lasts this long.
    operator_session_key: SecretStr = SecretStr("")
    operator_session_hours: float = Field(default=8.0, gt=0)
    flower_host: str = "127.0.0.1"  # 0.0.0.0 in a container (docker-compose.yml)
    flower_port: int = 5555
    # Where the workers write their metrics for the web's /metrics (prometheus-client's
    # multiprocess mode); empty: DATA_DIR/metrics. ``amazon-channel run`` empties it at start.
    prometheus_multiproc_dir: Path | None = None

    # Secrets at rest (``infra.secrets``): comma-separated Fernet keys, the first encrypts and
    # every one decrypts. Empty: the key kept in DATA_DIR/secrets.key (generated on first use),
    # refused with a DATABASE_URL over the network.
    secrets_key: SecretStr = SecretStr("")

    # Payouts: how often beat fetches Amazon's settlement reports (one per period, ~14 days).
    payout_fetch_interval_seconds: float = Field(default=3600.0, gt=0)

    # Notifications (Amazon's ORDER_CHANGE, FEED_PROCESSING_FINISHED and
    # REPORT_PROCESSING_FINISHED pushed to an SQS queue). Empty SQS_QUEUE_URL: the embedded
    # SQS-compatible server (moto) in DATA_DIR and its queue; in production an AWS SQS queue URL.
    # SQS_ENDPOINT_URL overrides boto3's endpoint (the embedded server sets it; empty for AWS).
    sqs_queue_url: str = ""
    sqs_endpoint_url: str = ""
    aws_region: str = "us-east-1"
    # The sandbox's delivery of notifications: seconds from a change to its message on the queue
    # (Amazon's arrive within seconds). Duplicates, reordering and drops: its control API.
    sandbox_notification_delay_seconds: float = Field(default=1.0, ge=0)
    # The consumer's receive: how long a message it took stays hidden from others before SQS
    # delivers it again (0: the queue's own setting, 30 s by default on SQS).
    sqs_visibility_timeout: int = Field(default=0, ge=0, le=43_200)
    # While an account's notifications are healthy (domain.notifications.health) its sync runs
    # at most this often: notifications bring changes in seconds, the sync is the safety net.
    sync_interval_with_notifications_seconds: float = Field(default=900.0, gt=0)
    # Healthy: a notification for the account within this long, and the consumer alive.
    notifications_healthy_seconds: float = Field(default=3600.0, gt=0)

    # Ingestion.
    sync_interval_seconds: float = 60.0
    sync_overlap_seconds: float = 300.0
    sync_page_size: int = Field(default=100, ge=1, le=100)
    # searchOrders calls of each seller's budget that scheduled syncs leave for syncs with many
    # pages: a sync is queued only when the budget holds more (domain.ingestion.schedule).
    sync_budget_reserve: int = Field(default=10, ge=0)
    # The broker's redelivery delay for a dead worker's message (tests shorten it).
    broker_visibility_timeout: int = 900

    # Platform events.
    webhook_urls: str = ""  # comma-separated subscriber URLs
    webhook_secret: SecretStr = SecretStr("")
    webhook_retry_hours: float = 24.0

    # Fulfilments: warn this long before an order's ship-by date passes.
    ship_by_warning_hours: float = 24.0

    # Operations: the SP-API calls made for each order are kept this long (0: not recorded).
    spapi_call_retention_days: int = Field(default=14, ge=0)

    log_level: str = "INFO"
    log_json: bool = False
    # The name on each of this process's log lines (the supervisor names its children).
    process_name: str = ""

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        """A relative ``DATA_DIR`` is taken from where the command started, once, so every
        message names the folder in full."""
        return value.expanduser().absolute()

    def metrics_dir(self) -> Path:
        """The folder of the workers' metrics files (``infra.metrics``)."""
        folder = self.prometheus_multiproc_dir or self.data_dir / "metrics"
        return folder.expanduser().absolute()

    def resolved_spapi_endpoint(self) -> str:
        if self.spapi_endpoint:
            return self.spapi_endpoint.rstrip("/")
        if self.amazon_region == Region.SANDBOX:
            return f"http://{self.sandbox_host}:{self.sandbox_port}"
        return SPAPI_ENDPOINTS[self.amazon_region]

    def resolved_lwa_token_url(self) -> str:
        if self.lwa_token_url:
            return self.lwa_token_url
        if self.amazon_region == Region.SANDBOX:
            return f"{self.resolved_spapi_endpoint()}/auth/o2/token"
        return LWA_TOKEN_URL

    def uses_sandbox(self) -> bool:
        return self.amazon_region == Region.SANDBOX

    def lwa_app_client_id(self) -> str:
        """``LWA_CLIENT_ID``, or against the sandbox with none given, its demo app's."""
        if not self.lwa_client_id and self.uses_sandbox():
            return SANDBOX_APP_CLIENT_ID
        return self.lwa_client_id

    def lwa_app_client_secret(self) -> SecretStr:
        """``LWA_CLIENT_SECRET``, or against the sandbox with none given, its demo app's."""
        if not self.lwa_client_secret.get_secret_value() and self.uses_sandbox():
            return SecretStr(SANDBOX_APP_CLIENT_SECRET)
        return self.lwa_client_secret

    def webhook_url_list(self) -> list[str]:
        return [u.strip() for u in self.webhook_urls.split(",") if u.strip()]

    def api_token_list(self) -> list[str]:
        return [t.strip() for t in self.api_tokens.split(",") if t.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read the environment now (call at a process edge)."""
    return Settings(**overrides)  # type: ignore[arg-type]
