"""Beat's scheduler: RedBeat that heals when Redis loses its lock or its schedule keys.

RedBeat keeps beat's lock and the schedule in Redis. Stock RedBeat exits when its lock is gone
(``LockNotOwnedError`` on the next extend: a ``FLUSHALL``, a restart without persistence, a
failover, a pause longer than the lock's timeout during which another beat took over), and an
entry whose keys vanished is dropped from the schedule for good. Either way the order sync, the
sweepers and event delivery stop until someone restarts beat. This scheduler instead:

- re-takes the lock when it is gone or not ours, blocking as at start: when another beat holds
  it, this one waits standby (sends nothing) and takes over once that lock runs out;
- checks at every tick that each entry of the schedule from code is still in Redis (one
  pipelined round trip) and rebuilds the schedule from code (``setup_schedule``) when one is
  missing; a rebuilt entry's last run was lost with it, so it runs at once, which is what a
  broker that lost its messages needs (the sweepers republish what was accepted but not
  finished);
- rides out Redis being unreachable (a restart, a blip): the tick says so and tries again
  shortly; the lock's timeout decides who is active afterwards.

The lock is taken in the first tick rather than in RedBeat's ``beat_init`` handler, so a Redis
that is down at start delays beat instead of leaving it without a lock.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from celery.signals import beat_init
from redbeat.decoder import to_timestamp
from redbeat.schedulers import (
    LUA_EXTEND_TO_SCRIPT,
    RedBeatScheduler,
    acquire_distributed_beat_lock,
    get_redis,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# Redis unreachable: the next tick tries again this soon (well inside the lock's timeout).
RETRY_S = 2.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# This scheduler takes the lock itself (``HealingScheduler._take_lock``).
beat_init.disconnect(acquire_distributed_beat_lock)


class HealingScheduler(RedBeatScheduler):  # type: ignore[misc]
    """RedBeat's scheduler that re-takes its lost lock and rebuilds a lost schedule."""

    lock: Any = None  # redis-py's Lock while this beat holds (or held) it

    def setup_schedule(self) -> None:
        """The schedule from code into Redis (RedBeat's); with Redis unreachable at start, the
        first tick that reaches it stores it."""
        try:
            super().setup_schedule()
        except UNREACHABLE as exc:
            log.warning(
                "beat: Redis unreachable (%s); the schedule is stored when it answers",
                type(exc).__name__,
            )

    def tick(self, min: Any = min, **kwargs: Any) -> float:  # ``min``: RedBeat's signature
        try:
            self._hold_lock()
            self._keep_schedule()
            remaining: list[float] = []
            for entry in self.schedule.values():
                next_time_to_run = self.maybe_due(entry, **self._maybe_due_kwargs)
                if next_time_to_run:
                    remaining.append(next_time_to_run)
        except UNREACHABLE as exc:
            log.warning(
                "beat: Redis unreachable (%s); trying again in %.0f s", type(exc).__name__, RETRY_S
            )
            return RETRY_S
        except RuntimeError:  # RedBeat's: the schedule changed while it was read
            log.debug("beat: RuntimeError", exc_info=True)
            remaining = []
        return float(min([*remaining, self.max_interval]))

    # -- the lock ----------------------------------------------------------------------------

    def _hold_lock(self) -> None:
        """Extend our lock; when it is gone or another's, wait until it is ours again."""
        if not self.lock_key:
            return
        if self.lock is not None:
            try:
                self.lock.extend(int(self.lock_timeout))
                return
            except LockError:
                log.warning(
                    "beat: lost its lock (Redis lost its data, or this beat was paused and "
                    "another took over); taking it again"
                )
                self.lock = None
                self._take_lock(again=True)
                return
        self._take_lock(again=False)

    def _take_lock(self, *, again: bool) -> None:
        """Block until this beat holds the lock: a second beat waits here, standby, sending
        nothing, and polls every ``max_interval`` (as RedBeat's own start does)."""
        client = get_redis(self.app)
        # Not thread-local: the token belongs to this scheduler, whichever thread ticks it.
        lock = client.lock(
            self.lock_key,
            timeout=self.lock_timeout,
            sleep=self.max_interval,
            thread_local=False,
        )
        # RedBeat's "extend to" script: an extend sets the timeout, it does not add to it.
        lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)
        waited = False
        while True:
            try:
                if lock.acquire(blocking=False):
                    break
            except UNREACHABLE as exc:
                log.warning(
                    "beat: Redis unreachable (%s) while taking the lock", type(exc).__name__
                )
            else:
                if not waited:
                    log.info("beat: standby, another beat holds the lock %s", self.lock_key)
                waited = True
            time.sleep(self.max_interval)
        self.lock = lock
        # At start without a wait, beat's "ready" line says it all.
        log.log(
            logging.INFO if waited or again else logging.DEBUG,
            "beat: holds the lock%s, active",
            " after standby" if waited else "",
        )

    # -- the schedule ------------------------------------------------------------------------

    def _keep_schedule(self) -> None:
        """Rebuild the schedule from code when any of its entries is gone from Redis."""
        names = list(self.app.redbeat_conf.schedule or {})
        if not names:
            return
        client = get_redis(self.app)
        schedule_key = self.app.redbeat_conf.schedule_key
        keys = [self.Entry.generate_key(self.app, name) for name in names]
        with client.pipeline() as pipe:
            for key in keys:
                pipe.zscore(schedule_key, key)
                pipe.hexists(key, "definition")
            answers = pipe.execute()
        missing = [
            name
            for name, scored, defined in zip(names, answers[0::2], answers[1::2], strict=True)
            if scored is None or not defined
        ]
        if not missing:
            return
        super().setup_schedule()
        # RedBeat stores a new entry as if it had just run (its first run an interval later);
        # when it last ran was lost with it, so it runs now: a sweep after a broker lost its
        # messages is what brings the work back.
        now = to_timestamp(self.app.now())
        with client.pipeline() as pipe:
            for name in missing:
                key = self.Entry.generate_key(self.app, name)
                pipe.hset(key, "meta", json.dumps({"last_run_at": None}))
                pipe.zadd(schedule_key, {key: now})
            pipe.execute()
        log.warning(
            "beat: %d of %d schedule entries were gone from Redis; rebuilt from code, due now (%s)",
            len(missing),
            len(names),
            ", ".join(sorted(missing)),
        )

    def close(self) -> None:
        """Give the lock back if it is still ours (nothing to give back when Redis lost it)."""
        lock, self.lock = self.lock, None
        if lock is not None:
            try:
                if lock.owned():
                    lock.release()
                    log.info("beat: released its lock")
            except (LockError, *UNREACHABLE) as exc:
                log.info("beat: no lock to release (%s)", type(exc).__name__)
        super().close()
