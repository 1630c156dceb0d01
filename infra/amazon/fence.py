"""Fenced calls: inside ``fenced(check, timeout)`` every request the SP-API transport sends is
preceded by ``check()`` and sent with ``timeout``.

A worker that holds a lease on the work it sends (a fulfilment, a feed submission) sets the fence
for the length of its attempt: ``check`` renews the attempt's lease and raises
``domain.shared.LeaseLost`` when another attempt holds it now, so a worker that stalled (SIGSTOP,
a long GC, a VM pause) and woke after its lease was taken over sends nothing. The check runs in
the transport, right before the request leaves: after the wait for a rate-budget token and the
access token, so a pause in either of those is caught too. ``timeout`` bounds the call itself
well below the lease, so a call in flight ends before the lease could run out even if no
heartbeat renews it meanwhile.

The fence is a context variable (one per thread and task): the clients are shared by every
attempt a process runs, the attempt is not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class Fence:
    check: Callable[[], None]  # raises (``LeaseLost``) when the call must not be made
    timeout: httpx.Timeout

    def ready(self) -> httpx.Timeout:
        """Check (it raises when the call must not be made); the call's timeout."""
        self.check()
        return self.timeout


_current: ContextVar[Fence | None] = ContextVar("amazon_fence", default=None)


def current() -> Fence | None:
    """The fence of the attempt running here, if any."""
    return _current.get()


@contextlib.contextmanager
def fenced(check: Callable[[], None], timeout: httpx.Timeout) -> Iterator[Fence]:
    """Every SP-API request sent inside the block is checked first and bounded by ``timeout``."""
    fence = Fence(check, timeout)
    token = _current.set(fence)
    try:
        yield fence
    finally:
        _current.reset(token)
