"""``notifications setup|status|teardown ACCOUNT``: Amazon's notifications of a seller to our SQS
queue, through the Notifications API (``infra.amazon.gateways.notifications``); and
``notifications consume``, the consumer's process (``workers.cli.consume``).

The gateway (``workers.notifications_setup``, which ``run`` uses too) aims at the queue of
``SQS_QUEUE_URL``, else the embedded SQS of the ``amazon-channel run`` that is up in the data
folder; its ARN is read from SQS (``GetQueueAttributes``), never typed. ``setup``
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

from workers.cli.common import fail, store, table
from workers.cli.consume import consume

if TYPE_CHECKING:
    from workers.notifications_setup import Gateway


@click.group()
def notifications() -> None:
    """Amazon's order, feed and report notifications to the SQS queue."""


notifications.add_command(consume)


@contextmanager
def _gateway(account_ref: str) -> Iterator[Gateway]:
    """The account's gateway to the queue (``workers.notifications_setup``); a refusal is one
    ``error:`` line."""
    from workers import bootstrap
    from workers.notifications_setup import SetupRefused, notifications_gateway

    with store() as ready:
        try:
            with notifications_gateway(bootstrap.container(), ready, account_ref) as gateway:
                yield gateway
        except SetupRefused as exc:
            fail(str(exc))


@notifications.command("setup")
@click.argument("account")
def setup(account: str) -> None:
    """Make ACCOUNT's destination and subscriptions (nothing made twice)."""
    with _gateway(account) as gateway:
        steps = gateway.api.setup(gateway.arn, gateway.queue_name, gateway.marketplace_ids)
    click.echo(f"notifications of {account} to {gateway.arn}")
    table(["what", "done", "id"], [[s.what, s.action, s.ident] for s in steps])


@notifications.command("status")
@click.argument("account")
def status(account: str) -> None:
    """ACCOUNT's destination for the queue and its subscriptions, as Amazon holds them."""
    from infra.amazon.gateways.notifications import PAYLOAD_VERSIONS

    with _gateway(account) as gateway:
        destination, subscriptions = gateway.api.status(gateway.arn)
    arn = gateway.arn
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
    with _gateway(account) as gateway:
        steps = gateway.api.teardown(gateway.arn, keep_destination=keep_destination)
    if not steps:
        click.echo(f"nothing to remove for {account}")
        return
    table(["what", "done", "id"], [[s.what, s.action, s.ident] for s in steps])
