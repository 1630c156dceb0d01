"""``amazon-channel notifications``: Amazon's notifications (``consume``: the consumer's
process)."""

from __future__ import annotations

import click

from workers.cli.consume import consume


@click.group()
def notifications() -> None:
    """Amazon's notifications (order changes, finished feeds and reports) from SQS."""


notifications.add_command(consume)
