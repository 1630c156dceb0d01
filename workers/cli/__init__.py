"""``amazon-channel``: the command line for operators, developers and the Procfile.

The root group ``main`` gathers one module per command group; the groups share only
``workers.cli.common``. Every command that needs the store starts the embedded servers when no
URLs are configured, so each works on a fresh machine. Errors are one line naming the field and
the reason, with exit status 2, never a traceback.
"""

from __future__ import annotations

import click

from workers.cli.accounts import accounts
from workers.cli.db import db
from workers.cli.events import events
from workers.cli.failures import failures
from workers.cli.fulfilments import fulfil, fulfilments
from workers.cli.notifications import notifications
from workers.cli.orders import orders
from workers.cli.payouts import payouts
from workers.cli.refunds import cancel, refund, refunds
from workers.cli.sandbox import sandbox
from workers.cli.secrets import secrets
from workers.cli.services import beat, demo, flower, run, web, worker
from workers.cli.status import status
from workers.cli.sync import backfill, sync
from workers.cli.tokens import tokens


@click.group()
def main() -> None:
    """amazon-channel: Amazon orders into the store, fulfilments and refunds back to Amazon."""


for command in (
    *(run, demo, sandbox, worker, beat, flower, web, status),
    *(db, accounts, sync, backfill, orders, fulfil, fulfilments),
    *(refund, cancel, refunds, payouts),
    *(secrets, tokens),
    *(failures, events, notifications),
):
    main.add_command(command)

__all__ = ["main"]
