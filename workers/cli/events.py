"""``events redeliver EVENT [--subscriber URL]``: a webhook event sent again, through the relay's
one path (``infra.db.redelivery`` puts its deliveries back to pending; the ``events.deliver``
task claims, signs, sends and records them)."""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from workers.cli.common import fail, store
from workers.doors.limits import shown

DELIVER_TASK = "events.deliver"
FOLLOW_UP_EXPIRES_S = 60


def _subscriber(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"--subscriber: {shown(value)} is not an http(s) URL")
    return value.strip()


@click.group("events")
def events() -> None:
    """Events for the platform's webhook subscribers."""


@events.command("redeliver")
@click.argument("event")
@click.option(
    "--subscriber",
    default=None,
    help="Only to this subscriber URL (a new one gets a delivery of its own).",
)
def events_redeliver(event: str, subscriber: str | None) -> None:
    """Deliver EVENT (its event id, or its outbox number) again: a dead delivery, or any."""
    from infra.db.redelivery import UnknownEvent, redeliver
    from workers import bootstrap
    from workers.app import app

    url = _subscriber(subscriber)
    with store() as settings:
        try:
            done = redeliver(bootstrap.container().engine, event, url)
        except UnknownEvent:
            fail(f"event: no event {shown(event)} in the outbox")
        if done.again:
            app.send_task(DELIVER_TASK, expires=FOLLOW_UP_EXPIRES_S)
    for target in done.again:
        click.echo(f"event {done.event_id} ({done.topic}) queued for delivery again to {target}")
    for target in done.in_flight:
        click.echo(f"event {done.event_id}: being sent to {target} right now; left to finish")
    if not done.again and not done.in_flight:
        fail(
            f"event: {done.event_id} was not fanned out to any subscriber yet "
            "(it is delivered when dispatched); give --subscriber URL"
        )
    if not settings.webhook_url_list():
        click.echo("note: WEBHOOK_URLS is empty here; a worker without subscribers sends nothing")
