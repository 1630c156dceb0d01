"""Beat's healing scheduler (``workers.beat``) on the session's real Redis: its lock and its
schedule keys deleted under it (what a FLUSHALL does to them), and a second scheduler beside it.
The schedulers tick in this process; what they send is counted at Celery's publish signal, on an
in-memory broker (the schedule's triggers are not the point here)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from celery.signals import after_task_publish

from workers.beat import HealingScheduler

pytestmark = pytest.mark.integration

TASK = "beatheal.tick"


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    prefix = f"test-beat-heal-{uuid.uuid4().hex[:8]}:"
    yield prefix
    keys = list(redis_client.scan_iter(f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


def beat_app(redis_url: str, prefix: str) -> Celery:
    app = Celery("beat-heal-test", set_as_current=False)
    app.conf.update(
        broker_url="memory://",
        redbeat_redis_url=redis_url,
        redbeat_redis_options={},
        redbeat_key_prefix=prefix,
        beat_schedule={
            "every-second": {"task": TASK, "schedule": 1.0},
            "every-hour": {"task": TASK, "schedule": 3600.0},
        },
    )
    return app


@pytest.fixture
def sent() -> Iterator[list[str]]:
    """The schedulers' sends, by the id of the scheduler's app (its ``main``)."""
    seen: list[str] = []

    def record(sender: Any = None, headers: Any = None, **_kwargs: Any) -> None:
        if sender == TASK:
            seen.append(str((headers or {}).get("origin", "")))

    after_task_publish.connect(record, weak=False)
    yield seen
    after_task_publish.disconnect(record)


def scheduler(app: Celery, lock_timeout: int = 30) -> HealingScheduler:
    return HealingScheduler(app=app, max_interval=0.2, lock_timeout=lock_timeout)


def holder(client: redis.Redis, prefix: str) -> bytes | None:
    value = client.get(f"{prefix}:lock")
    return value if isinstance(value, bytes) else None


def test_a_lost_lock_and_schedule_are_taken_and_rebuilt_instead_of_exiting(
    redis_url: str, redis_client: redis.Redis, prefix: str, sent: list[str]
) -> None:
    beat = scheduler(beat_app(redis_url, prefix))
    beat.tick()
    token = holder(redis_client, prefix)
    assert token is not None, "the first tick takes the lock"
    assert sent == [], "RedBeat runs a new entry one interval after it is stored"

    # What FLUSHALL does to beat: every key of its prefix gone.
    redis_client.delete(*redis_client.scan_iter(f"{prefix}*"))
    beat.tick()  # stock RedBeat raises LockNotOwnedError here and beat exits

    assert holder(redis_client, prefix) not in (None, token), "the lock is taken again"
    schedule = set(redis_client.zrange(f"{prefix}:schedule", 0, -1))
    assert {f"{prefix}every-hour".encode(), f"{prefix}every-second".encode()} <= schedule
    assert len(sent) == 2, "the rebuilt entries ran at once (their last run was lost)"
    beat.tick()
    assert len(sent) == 2, "and not again before they are due"
    beat.close()
    assert holder(redis_client, prefix) is None, "a clean stop gives the lock back"


def test_one_entry_lost_alone_is_put_back(
    redis_url: str, redis_client: redis.Redis, prefix: str, sent: list[str]
) -> None:
    beat = scheduler(beat_app(redis_url, prefix))
    beat.tick()
    redis_client.delete(f"{prefix}every-hour")  # an evicted key: RedBeat drops the entry
    beat.tick()
    assert redis_client.hexists(f"{prefix}every-hour", "definition")
    assert redis_client.zscore(f"{prefix}:schedule", f"{prefix}every-hour") is not None
    beat.close()


def test_a_second_beat_stays_standby_and_takes_over_when_the_first_stops_ticking(
    redis_url: str, redis_client: redis.Redis, prefix: str, sent: list[str]
) -> None:
    first = scheduler(beat_app(redis_url, prefix), lock_timeout=2)
    second = scheduler(beat_app(redis_url, prefix), lock_timeout=2)
    first.tick()
    token = holder(redis_client, prefix)
    before = len(sent)
    ticks = {"second": 0}
    stop = threading.Event()

    def run_second() -> None:
        while not stop.is_set():
            second.tick()
            ticks["second"] += 1

    standby = threading.Thread(target=run_second, daemon=True)
    standby.start()
    # Both "run" for 1.5 s; only the first may send (it keeps its lock alive).
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        first.tick()
        time.sleep(0.2)
    assert ticks["second"] == 0, "the second beat waits for the lock, ticking nothing"
    assert holder(redis_client, prefix) == token
    assert len(sent) > before, "the first beat sent its every-second entry"

    # The first beat pauses past the lock's timeout: the second takes over and sends.
    deadline = time.monotonic() + 6
    while ticks["second"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ticks["second"] > 0, "the second beat took the lock once the first's ran out"
    assert holder(redis_client, prefix) not in (None, token)

    # The first wakes: its lock is another's, so it goes standby instead of sending or exiting.
    woke = threading.Thread(target=first.tick, daemon=True)
    woke.start()
    woke.join(timeout=1.0)
    assert woke.is_alive(), "the first beat waits, standby"
    stop.set()
    standby.join(timeout=5)
    second.close()  # the lock is free: the first takes it within one poll
    woke.join(timeout=5)
    assert not woke.is_alive() and holder(redis_client, prefix) is not None
    first.close()
