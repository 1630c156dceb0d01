"""A seller's Notifications API gateway aimed at our SQS queue: what ``notifications
setup|status|teardown`` (``workers.cli.notifications``) and ``run``'s subscribing of the sandbox
sellers at ready (``workers.system``) share, in the calling process.

The queue is ``SQS_QUEUE_URL``'s, else the embedded SQS of the ``amazon-channel run`` that is up
in the data folder; its ARN is read from SQS (``GetQueueAttributes``), never typed. The
destination calls are grantless (the application's LWA token, scope
``sellingpartnerapi::notifications``), the subscription calls the seller's. Whatever stops it
(no such account, no queue, SQS or Amazon refusing) is a ``SetupRefused`` with one line to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.settings import Region, Settings

if TYPE_CHECKING:
    from infra.amazon.gateways.notifications import SpApiNotifications, Step
    from workers.bootstrap import Container


class SetupRefused(Exception):
    """Why the gateway could not be had or used, in one line."""


@dataclass(frozen=True, slots=True)
class Gateway:
    api: SpApiNotifications
    arn: str  # the queue's
    queue_name: str
    marketplace_ids: tuple[str, ...]  # the account's


@contextmanager
def notifications_gateway(
    container: Container, ready: Settings, account_ref: int | str
) -> Iterator[Gateway]:
    """The account's gateway to our queue; an Amazon refusal inside the block is re-raised as
    ``SetupRefused`` too."""
    from infra.amazon.errors import AmazonError
    from infra.amazon.gateways.notifications import SpApiNotifications, notifications_api
    from infra.db.accounts import AccountError, get_account
    from infra.sqs import SqsNotConfigured, queue_url, sqs_client

    try:
        account = get_account(container.sessions, account_ref)
    except AccountError as exc:
        raise SetupRefused("; ".join(f"{e.field}: {e.reason}" for e in exc.errors)) from exc
    try:
        url = queue_url(ready)
        client = sqs_client(ready)
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    except SqsNotConfigured as exc:
        raise SetupRefused(str(exc)) from exc
    except Exception as exc:  # botocore's many errors, each one line
        raise SetupRefused(f"cannot read the SQS queue's ARN: {type(exc).__name__}: {exc}") from exc
    settings = ready.model_copy(update={"amazon_region": Region(account.region)})
    api = notifications_api(
        container.amazon_client(account),
        settings.resolved_lwa_token_url(),
        account.lwa_client_id or settings.lwa_app_client_id(),
        settings.lwa_app_client_secret(),
        container.redis,
    )
    try:
        yield Gateway(
            SpApiNotifications(api), str(arn), url.rsplit("/", 1)[-1], account.marketplace_ids
        )
    except AmazonError as exc:
        raise SetupRefused(f"Amazon refused: {exc}") from exc


def subscribe(container: Container, ready: Settings, account_ref: int | str) -> list[Step]:
    """``notifications setup``: the destination and the three subscriptions, nothing made
    twice; the steps taken."""
    with notifications_gateway(container, ready, account_ref) as gateway:
        return gateway.api.setup(gateway.arn, gateway.queue_name, gateway.marketplace_ids)
