"""When the notifications of an account are healthy, so that its sync may run less often.

Healthy means all of: the consumer is alive (it long-polled the queue within the last minute),
the account had a notification within ``window`` (a seller whose subscription is missing, or
whose notifications stopped, gets none: its sync runs at the usual pace), and no refresh of the
account was left to the sync window (those wait for the next sync, which must then come soon).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def healthy(
    *,
    consumer_alive: bool,
    last_received_at: datetime | None,
    deferred_refreshes: int,
    now: datetime,
    window: timedelta,
) -> bool:
    if not consumer_alive or last_received_at is None or deferred_refreshes > 0:
        return False
    return now - last_received_at <= window
