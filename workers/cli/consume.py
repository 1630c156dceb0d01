"""``amazon-channel notifications consume``: the notifications consumer's process (the
Procfile's ``notifications-consumer``), long-polling the SQS queue (``workers.consumer``).

With no queue known (no ``SQS_QUEUE_URL``, no embedded one) it says so once and waits for its
stop signal, so a deployment that has not set up notifications yet runs on polling alone
instead of restarting a process that cannot start.
"""

from __future__ import annotations

import logging
import signal
import threading

import click

from workers.cli.common import settings

log = logging.getLogger(__name__)


@click.command()
def consume() -> None:
    """Take Amazon's notifications in from the SQS queue until stopped."""
    from infra.sqs import SqsNotConfigured, queue_url, sqs_client
    from workers import bootstrap
    from workers.consumer import run_consumer

    loaded = settings("notifications-consumer")
    try:
        url = queue_url(loaded)
    except SqsNotConfigured as exc:
        log.warning("%s; notifications are off and the sync alone brings orders in", exc)
        stopped = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopped.set())
        stopped.wait()
        return
    bootstrap.use(loaded, patient=False)
    try:
        run_consumer(sqs_client(loaded), url, loaded.sqs_visibility_timeout)
    finally:
        bootstrap.reset_and_close()
