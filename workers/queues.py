"""Queue names and the time limits the broker settings are derived from (plain constants)."""

from __future__ import annotations

QUEUES = ("ingest", "fulfil", "refund", "payout", "events")
HARD_TIME_LIMIT_S = 300
SOFT_TIME_LIMIT_S = 270
# No countdown (retry backoff) is longer than this; longer waits are rows in PostgreSQL.
MAX_COUNTDOWN_S = 300
# Longer than a task can live plus its longest countdown: no re-delivery while a run is alive.
VISIBILITY_TIMEOUT_S = 900
assert VISIBILITY_TIMEOUT_S > HARD_TIME_LIMIT_S + MAX_COUNTDOWN_S
