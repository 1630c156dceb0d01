"""The SQS queue Amazon's notifications arrive on, through boto3: AWS SQS in production, the
embedded SQS-compatible server (moto) otherwise; the same calls either way.

``sqs_client(settings)`` is a boto3 SQS client for ``SQS_ENDPOINT_URL`` (empty: AWS's own
endpoint for ``AWS_REGION``); ``queue_url(settings)`` is ``SQS_QUEUE_URL``. Credentials are
boto3's usual chain (environment, profile, instance role); against a local endpoint with none
configured, moto takes any, so fixed placeholders are given.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from infra.settings import Settings

# Placeholders for the embedded server only (moto accepts any); never sent to AWS.
_LOCAL_KEY = "embedded"
# Longer than a long poll (WaitTimeSeconds 20): a receive is never cut short by the read timeout.
_READ_TIMEOUT_S = 30


class NoQueue(RuntimeError):
    """No SQS queue is known: SQS_QUEUE_URL is empty and no embedded one is running."""


def sqs_client(settings: Settings) -> Any:
    """A boto3 SQS client (boto3's clients are untyped, hence ``Any``)."""
    config = Config(
        region_name=settings.aws_region,
        connect_timeout=5,
        read_timeout=_READ_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    extra: dict[str, str] = {}
    if settings.sqs_endpoint_url:
        extra["endpoint_url"] = settings.sqs_endpoint_url
        session = boto3.session.Session()
        if session.get_credentials() is None:
            extra |= {"aws_access_key_id": _LOCAL_KEY, "aws_secret_access_key": _LOCAL_KEY}
    return boto3.client("sqs", config=config, **extra)


def queue_url(settings: Settings) -> str:
    if not settings.sqs_queue_url:
        raise NoQueue("no SQS queue: set SQS_QUEUE_URL (or run `amazon-channel run`)")
    return settings.sqs_queue_url
