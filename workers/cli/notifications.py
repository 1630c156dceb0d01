"""``notifications setup|status|teardown ACCOUNT``: Amazon's notifications of a seller to our SQS
queue, through the Notifications API (``infra.amazon.gateways.notifications``); and
``notifications consume``, the consumer's process (``workers.cli.consume``).

The queue is ``SQS_QUEUE_URL``'s, else the embedded SQS of the ``amazon-channel run`` that is up
in the data folder; its ARN is read from SQS (``GetQueueAttributes``), never typed. ``setup``
makes the destination (named for the queue; an existing one for the same ARN is reused) and the
ORDER_CHANGE (filtered to status changes and buyer requests in the account's marketplaces),
FEED_PROCESSING_FINISHED and REPORT_PROCESSING_FINISHED subscriptions; run twice, it makes
nothing twice. ``teardown`` deletes the subscriptions, then the destination unless
``--keep-destination`` (other sellers of the same application may use it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from infra.settings import Region, Settings
from workers.cli.common import fail, store, table
from workers.cli.consume import consume

if TYPE_CHECKING:
    from infra.amazon.gateways.notifications import SpApiNotifications


@click.group()
def notifications() -> None:
    """Amazon's order, feed and report notifications to the SQS queue."""


notifications.add_command(consume)


@contextmanager
def _gateway(account_ref: str) -> Iterator[tuple[SpApiNotifications, str, tuple[str, ...], str]]:
    """(the gateway, the queue's ARN, the account's marketplaces, the queue's name)."""
    from infra.amazon.errors import AmazonError
    from infra.amazon.gateways.notifications import SpApiNotifications, notifications_api
    from infra.db.accounts import AccountError, get_account
    from infra.sqs import SqsNotConfigured, queue_url, sqs_client
    from workers import bootstrap

    with store() as ready:
        container = bootstrap.container()
        try:
            account = get_account(container.sessions, account_ref)
        except AccountError as exc:
            fail("; ".join(f"{e.field}: {e.reason}" for e in exc.errors))
        try:
            url = queue_url(ready)
            client = sqs_client(ready)
            arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        except SqsNotConfigured as exc:
            fail(str(exc))
        except Exception as exc:  # noqa: BLE001 (botocore's many errors: a process edge, one line)
            fail(f"cannot read the SQS queue's ARN: {type(exc).__name__}: {exc}")
        settings = _account_settings(ready, account.region)
        api = notifications_api(
            container.amazon_client(account),
            settings.resolved_lwa_token_url(),
            account.lwa_client_id or settings.lwa_app_client_id(),
            settings.lwa_app_client_secret(),
            container.redis,
        )
        try:
            yield SpApiNotifications(api), arn, account.marketplace_ids, url.rsplit("/", 1)[-1]
        except AmazonError as exc:
            fail(f"Amazon refused: {exc}")


def _account_settings(ready: Settings, region: str) -> Settings:
    return ready.model_copy(update={"amazon_region": Region(region)})


@notifications.command("setup")
@click.argument("account")
def setup(account: str) -> None:
    """Make ACCOUNT's destination and subscriptions (nothing made twice)."""
    with _gateway(account) as (gateway, arn, marketplaces, name):
        steps = gateway.setup(arn, name, marketplaces)
    click.echo(f"notifications of {account} to {arn}")
    table(["what", "done", "id"], [[s.what, s.action, s.ident] for s in steps])


@notifications.command("status")
@click.argument("account")
def status(account: str) -> None:
    """ACCOUNT's destination for the queue and its subscriptions, as Amazon holds them."""
    from infra.amazon.gateways.notifications import PAYLOAD_VERSIONS

    with _gateway(account) as (gateway, arn, _marketplaces, _name):
        destination, subscriptions = gateway.status(arn)
    if destination is None:
        click.echo(f"destination: none for {arn}")
    else:
        click.echo(f"destination: {destination.destination_id} ({destination.name}) -> {arn}")
    by_type = {s.notification_type: s for s in subscriptions}
    rows = []
    for notification_type in PAYLOAD_VERSIONS:
        found = by_type.get(notification_type)
        if found is None:
            rows.append([notification_type, "missing", "", ""])
            continue
        here = destination is not None and found.destination_id == destination.destination_id
        filtered = "filtered" if found.processing_directive else ""
        rows.append(
            [
                notification_type,
                "to this queue" if here else f"to {found.destination_id}",
                found.subscription_id,
                filtered,
            ]
        )
    table(["notification", "subscription", "id", "filter"], rows)


@notifications.command("teardown")
@click.argument("account")
@click.option(
    "--keep-destination",
    is_flag=True,
    help="Delete only the subscriptions (other sellers of this app may use the destination).",
)
def teardown(account: str, keep_destination: bool) -> None:
    """Delete ACCOUNT's subscriptions, then the destination (unless kept or still used)."""
    with _gateway(account) as (gateway, arn, _marketplaces, _name):
        steps = gateway.teardown(arn, keep_destination=keep_destination)
    if not steps:
        click.echo(f"nothing to remove for {account}")
        return
    table(["what", "done", "id"], [[s.what, s.action, s.ident] for s in steps])
