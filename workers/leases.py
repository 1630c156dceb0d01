"""One attempt's lease on the work it sends to Amazon (a fulfilment, a feed submission): a fresh
token per attempt, kept alive by a heartbeat while the work runs, renewed right before each call
to Amazon (``infra.amazon.fence``), and let go when the attempt ends.

Why an attempt and not the task id: a copy of a message redelivered while its first copy still
runs (a worker paused past the broker's visibility timeout) carries the same task id. Owned by
the task id, the lease let that copy in beside the first; owned by one attempt's token, the copy
finds a live lease and leaves (the work is not lost: when the lease is free, the next attempt or
the sweeper takes it).

Why short, with a heartbeat: a SIGKILLed worker's work waits for its lease to run out, and
nothing else. ``LEASE`` is 30 s: the heartbeat renews it every ``HEARTBEAT_S`` (10 s), so two
beats can fail in a row (a database blip) before a live attempt is overtaken; a dead attempt's
work is free again at most 30 s after its last renewal, and the sweeper (every 10 s) queues it
at once, which keeps recovery within a minute of the kill. Every call made under the lease is
bounded by ``CALL_TIMEOUT`` (at most 25 s connect + write + read + pool), shorter than the lease:
a call in flight has ended before its lease could run out, even with no heartbeat meanwhile.

What is left, and why it is harmless: the check commits the renewal, then the request leaves. A
worker paused in the microseconds between the two for longer than the lease wakes and sends a
request that the attempt which took over may have sent too. For ``confirmShipment`` that second
request is an edit: it carries the same ``packageReferenceId`` and the same package. For
``createFeed`` the submission is ``creating`` before the call, so the attempt that took over
never sends createFeed again: it lists Amazon's feeds created in the call's window (closed when
it took over, widened by the feed policy's margin) and adopts the one it finds. Only a woken
request that reaches Amazon later than that margin after the takeover would be missed by the
listing; that needs a pause of over a minute at exactly that instruction. Every record is fenced
by the token, so the woken worker records nothing either way.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx

from domain.shared import LeaseLost
from infra.amazon.fence import fenced

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
HEARTBEAT_S = 10.0
CALL_TIMEOUT = httpx.Timeout(connect=3.0, read=15.0, write=5.0, pool=2.0)
_LONGEST_CALL_S = sum(
    t or 0.0
    for t in (CALL_TIMEOUT.connect, CALL_TIMEOUT.read, CALL_TIMEOUT.write, CALL_TIMEOUT.pool)
)
assert LEASE.total_seconds() > _LONGEST_CALL_S, "a call must end before its lease can run out"
assert LEASE.total_seconds() > HEARTBEAT_S * 2, "a lost beat must not lose the lease"

Renew = Callable[[str, timedelta], bool]  # (token, lease) -> still held
LetGo = Callable[[str], bool]  # token -> it held something


def new_token() -> str:
    """One attempt's owner token: never a task id, never reused."""
    return f"attempt-{uuid.uuid4().hex}"


@contextlib.contextmanager
def attempt(
    what: str, renew: Renew, let_go: LetGo, *, every_s: float = HEARTBEAT_S
) -> Iterator[str]:
    """Run one attempt under a fresh token (yielded: the use case claims with it). While the
    block runs a daemon thread renews the lease every ``every_s``, and every SP-API call
    first renews it and raises ``LeaseLost`` instead of calling when the lease is another's.
    When the block ends (returned or raised) the heartbeat stops and whatever the attempt still
    holds is let go at once, so the task's own retry (or the sweeper) is not locked out by it.

    Before the claim (and after an outcome is recorded) a renewal finds nothing to renew: the
    heartbeat then does nothing, harmlessly."""
    token = new_token()

    def check() -> None:
        if not renew(token, LEASE):
            raise LeaseLost(f"{what}: another attempt holds the lease now; nothing was sent")

    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(stop, what, token, renew, every_s), name=what, daemon=True
    )
    beat.start()
    try:
        with fenced(check, CALL_TIMEOUT):
            yield token
    finally:
        stop.set()
        beat.join(timeout=every_s)  # a renewal under way ends before the lease is let go
        try:
            let_go(token)
        except Exception as exc:  # noqa: BLE001 (the attempt's own outcome or error stands)
            # Not let go: it runs out by itself within LEASE.
            log.warning("lease not let go", extra={"work": what, "error": type(exc).__name__})


def _heartbeat(stop: threading.Event, what: str, token: str, renew: Renew, every_s: float) -> None:
    """The thread's whole life: renew until told to stop. A failed renewal is logged and tried
    again at the next beat; the check before a call is what decides whether the attempt may
    still send, so nothing here raises (the top of a thread: an edge of the process)."""
    while not stop.wait(every_s):
        try:
            renew(token, LEASE)
        except Exception as exc:  # noqa: BLE001 (see the docstring)
            log.warning("lease heartbeat failed", extra={"work": what, "error": type(exc).__name__})
