"""After the broker lost its data: what the sweepers republish at once.

A sweeper queues what is accepted but not finished, then leaves it alone for a while (its
``resend_after``: the message may simply be waiting behind others). When the broker lost its
data, those messages are gone, and waiting out ``resend_after`` (10 minutes for fulfilments)
would leave accepted work unsent. The broker's epoch marker (``infra.broker.data_since``:
a Redis key; on RabbitMQ a marker queue, its time kept in the Redis of the rate budgets) tells
when its data began; for ``resend_after`` after that, every sweep also takes what it had put
off to before the loss plus ``resend_after``, which is everything it queued before the loss.

Amazon's own long waits (a Retry-After past the longest countdown) are put off the same way, so
one that ends within ``resend_after`` of the loss is tried that much early: at worst Amazon
throttles it again; no effect is repeated, since every send is guarded by its lease and keys.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from infra.broker import data_since

log = logging.getLogger(__name__)


def lost_before(resend_after: timedelta, now: datetime, *, sweeper: str) -> datetime | None:
    """The cutoff a sweeper passes to its store after the broker lost its data (work put off
    to before it counts as due now), or None in normal times and when the broker cannot be
    asked (the sweep then goes on as usual)."""
    from workers import bootstrap
    from workers.app import app

    try:
        with app.pool.acquire(block=True, timeout=10) as connection:
            keeper = (
                bootstrap.container().redis if connection.transport.driver_type == "amqp" else None
            )
            began = data_since(connection, now, keeper)
    except (KombuError, RedisError, OSError, AMQPError) as exc:
        log.debug("cannot read the broker's epoch: %s", exc)
        return None
    if began is None or now - began >= resend_after:
        return None
    # Once per loss, by the sweeper that found the marker gone (the others sweep quietly).
    log.log(
        logging.WARNING if began == now else logging.DEBUG,
        "%s: the broker's data began %.0f s ago (it lost its data, or is new): "
        "republishing what was queued before",
        sweeper,
        (now - began).total_seconds(),
    )
    return began + resend_after
