"""The notifications queue: one boto3 SQS client and one queue URL, the same code path against
AWS SQS in production and the embedded SQS-compatible server (moto) on one machine.

- ``queue_url(settings)``: ``SQS_QUEUE_URL`` when set; else the queue of the embedded server
  that ``amazon-channel run`` started in the data folder (its record, ``<data>/sqs/server.json``,
  written by ``infra.embedded.EmbeddedSqs``); else ``SqsNotConfigured`` saying what to do.
- ``sqs_client(settings)``: a boto3 client for ``AWS_REGION``, on ``SQS_ENDPOINT_URL`` when set
  (else the embedded server's endpoint when the queue is the embedded one, else AWS's own).
  Against the embedded server it passes moto's dummy credentials itself (moto accepts any, boto3
  refuses to sign without some); against AWS boto3's own credential chain decides.

Errors::

    RuntimeError
      SqsNotConfigured   no queue URL given and no embedded server up in the data folder

The consumer (``receive_message`` with long polling, ``delete_message``) and the sandbox's
delivery (``send_message``) both build their client here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infra.runstate import process_started_at
from infra.settings import Settings

# boto3 builds its clients at run time (no stubs installed): a client is typed as what it is.
SQSClient = Any

QUEUE_NAME = "amazon-channel-notifications"
EMBEDDED_ACCOUNT_ID = "123456789012"  # moto's account: the embedded queue's ARN names it
# moto takes any credentials; boto3 will not sign without some. Never real, never logged.
EMBEDDED_ACCESS_KEY_ID = "testing"
EMBEDDED_SECRET_ACCESS_KEY = "testing"  # noqa: S105 (moto's dummy, opens nothing)
SERVER_RECORD = Path("sqs") / "server.json"
# Long polls wait up to 20 s (SQS's maximum): the socket must wait longer than that.
_READ_TIMEOUT_S = 30
_CONNECT_TIMEOUT_S = 5
_START_TIME_SLACK_S = 1.0


class SqsNotConfigured(RuntimeError):
    """No SQS queue: ``SQS_QUEUE_URL`` is empty and no embedded server is up in the data folder."""


@dataclass(frozen=True, slots=True)
class EmbeddedSqsServer:
    """The embedded server's record in the data folder: how to reach it and whether it is up."""

    pid: int
    pid_started_at: float  # psutil's start time: a reused pid is told apart
    port: int
    endpoint_url: str
    queue_url: str

    def alive(self) -> bool:
        started = process_started_at(self.pid)
        return started is not None and abs(started - self.pid_started_at) <= _START_TIME_SLACK_S


def server_record_path(data_dir: Path) -> Path:
    return data_dir / SERVER_RECORD


def read_server_record(data_dir: Path) -> EmbeddedSqsServer | None:
    """The recorded embedded server, alive or not; None with no (or a broken) record."""
    try:
        data = json.loads(server_record_path(data_dir).read_text())
        return EmbeddedSqsServer(
            pid=int(data["pid"]),
            pid_started_at=float(data["pid_started_at"]),
            port=int(data["port"]),
            endpoint_url=str(data["endpoint_url"]),
            queue_url=str(data["queue_url"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live_server(data_dir: Path) -> EmbeddedSqsServer | None:
    """The embedded server up in ``data_dir``, None when none is."""
    record = read_server_record(data_dir)
    return record if record is not None and record.alive() else None


def write_server_record(data_dir: Path, server: EmbeddedSqsServer) -> None:
    """Written whole (a temporary file renamed over it): a reader never sees half of one."""
    target = server_record_path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".server-", suffix=".json", dir=target.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(asdict(server), indent=2) + "\n")
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_server_record(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        server_record_path(data_dir).unlink()


def queue_url(settings: Settings) -> str:
    """The notifications queue's URL (see the module docstring for the order)."""
    if settings.sqs_queue_url:
        return settings.sqs_queue_url
    server = live_server(settings.data_dir)
    if server is not None:
        return server.queue_url
    raise SqsNotConfigured(
        "no SQS queue: set SQS_QUEUE_URL (an AWS SQS queue), or start `amazon-channel run`, "
        f"which starts the embedded SQS in {settings.data_dir}"
    )


def endpoint_url(settings: Settings) -> str | None:
    """boto3's endpoint: ``SQS_ENDPOINT_URL``, else the embedded server's when the queue is its
    own, else None (AWS's endpoint for the region)."""
    if settings.sqs_endpoint_url:
        return settings.sqs_endpoint_url.rstrip("/")
    server = live_server(settings.data_dir)
    if server is not None and settings.sqs_queue_url in ("", server.queue_url):
        return server.endpoint_url
    return None


def is_embedded(settings: Settings) -> bool:
    """The endpoint is the embedded server of this data folder (moto: dummy credentials)."""
    server = read_server_record(settings.data_dir)
    endpoint = endpoint_url(settings)
    return server is not None and endpoint is not None and endpoint == server.endpoint_url


def queue_arn(queue_url_or_name: str, region: str, account_id: str) -> str:
    """``arn:aws:sqs:REGION:ACCOUNT:NAME`` for a queue URL (its last path segment) or name."""
    name = queue_url_or_name.rstrip("/").rsplit("/", 1)[-1]
    return f"arn:aws:sqs:{region}:{account_id}:{name}"


def sqs_client(settings: Settings) -> SQSClient:
    """A boto3 SQS client for the notifications queue (built per caller: boto3 clients are
    thread-safe once made, but making one is not cheap, so keep it for the process's life)."""
    import boto3
    from botocore.config import Config

    kwargs: dict[str, Any] = {
        "region_name": settings.aws_region,
        "config": Config(
            connect_timeout=_CONNECT_TIMEOUT_S,
            read_timeout=_READ_TIMEOUT_S,
            retries={"mode": "standard", "max_attempts": 3},
        ),
    }
    endpoint = endpoint_url(settings)
    if endpoint is not None:
        kwargs["endpoint_url"] = endpoint
    if is_embedded(settings):
        kwargs["aws_access_key_id"] = EMBEDDED_ACCESS_KEY_ID
        kwargs["aws_secret_access_key"] = EMBEDDED_SECRET_ACCESS_KEY
    return boto3.client("sqs", **kwargs)
