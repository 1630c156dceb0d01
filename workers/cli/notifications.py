"""``amazon-channel notifications``: Amazon's notifications (``consume``: the consumer's
process)."""

from __future__ import annotations

import click

from workers.cli.consume import consume


@click.group()
def notifications() -> None:
    """Amazon's notifications: ORDER_CHANGE, FEED_PROCESSING_FINISHED, REPORT_PROCESSING_FINISHED."""


notifications.add_command(consume)
