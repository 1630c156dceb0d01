"""Run the sandbox: ``serve`` for a process of its own, ``running_sandbox`` inside tests.

Both run uvicorn over ``create_app``. ``running_sandbox`` binds the socket itself (port 0 = any
free port) before the server thread starts, so ``base_url`` is right the moment it is yielded
(and the app hands out URLs under it), and it waits until uvicorn accepts connections.
uvicorn installs no signal handlers outside the main thread, so the test process keeps its own.

The demo generator (``serve(..., demo_orders_per_minute=N)``) plays a busy seller for demos: it
creates orders of every kind for the demo seller, moves pending ones to unshipped a little
later, and now and then has a buyer ask to cancel. New orders are dated 2.5 minutes in the
sandbox's past so that a search sees them at once (Amazon hides the last two minutes).

Given a ``state_file``, both keep the state there across restarts (``keeper``): loaded at start,
saved within a second of a change and at a clean stop.

Notifications go to the subscribed SQS queues on ``sqs_endpoint_url`` (the embedded SQS; None:
AWS's), each ``notification_delay_s`` after the change (``delivery``); both stop the sender
with the server.
"""

from __future__ import annotations

import logging
import random
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn

from infra.amazon.sandbox.app import create_app
from infra.amazon.sandbox.delivery import install_notifier
from infra.amazon.sandbox.demo_sellers import add_demo_sellers, demo_sellers
from infra.amazon.sandbox.generate import CANCEL_REASONS, build_order, varied_spec
from infra.amazon.sandbox.keeper import StateKeeper
from infra.amazon.sandbox.reports import close_now
from infra.amazon.sandbox.state import DEMO_SELLER, SandboxError, SandboxState

log = logging.getLogger(__name__)

DEMO_BACKDATE = timedelta(seconds=150)
STARTUP_TIMEOUT_S = 10.0
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")  # noqa: S104 (names of "every interface", not a bind)


@dataclass(frozen=True, slots=True)
class SandboxHandle:
    base_url: str
    state: SandboxState


class DemoGenerator:
    """Creates demo orders at a steady pace on a daemon thread until ``stop``, for the demo
    seller or, given several ``sellers``, for one of them drawn at random each time."""

    def __init__(
        self,
        state: SandboxState,
        orders_per_minute: float,
        seed: int | None = None,
        sellers: tuple[str, ...] = (DEMO_SELLER.seller_id,),
        settle_every_s: float = 0.0,
    ) -> None:
        if orders_per_minute <= 0:
            raise ValueError("orders_per_minute must be > 0")
        if not sellers:
            raise ValueError("sellers must name at least one seller")
        self.state = state
        self.interval_s = 60.0 / orders_per_minute
        self.rng = random.Random(seed)
        self.sellers = sellers
        # Close the demo sellers' periods this often (0: on Amazon's 14-day schedule only), so a
        # demo shows settlements arriving.
        self.settle_every_s = settle_every_s
        self._last_settled = time.monotonic()
        # (promote at, order id); pending orders of a kept state are promoted as if new.
        self._pending: list[tuple[datetime, str]] = [
            (state.now() + timedelta(seconds=self.rng.uniform(30, 180)), order.order_id)
            for seller in sellers
            for order in state.orders_of(seller)
            if order.status == "PENDING"
        ]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-demo", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except SandboxError:
                # A reset removed an order we were tracking; forget it and carry on.
                log.warning("sandbox demo generator lost track of an order after a reset")
                self._pending.clear()
            if self.settle_every_s and time.monotonic() - self._last_settled >= self.settle_every_s:
                self._last_settled = time.monotonic()
                self.settle()

    def settle(self) -> int:
        """Close every demo seller's open period now (one with events): its settlement report
        is made at once. Returns how many reports were made."""
        made = 0
        with self.state.lock:
            for seller in self.sellers:
                try:
                    made += len(close_now(self.state, seller, None))
                except SandboxError:
                    continue  # nothing to close for this seller yet
            self.state.mark_changed()
        if made:
            log.info("sandbox demo: %d settlement report(s) made", made)
        return made

    def tick(self) -> None:
        """One step: promote due pending orders, create one order, maybe a cancel request."""
        state = self.state
        with state.lock:
            now = state.now()
            due = [oid for at, oid in self._pending if at <= now]
            self._pending = [(at, oid) for at, oid in self._pending if at > now]
            for order_id in due:
                if state.orders.get(order_id) and state.orders[order_id].status == "PENDING":
                    state.set_status(order_id, "UNSHIPPED")
            # One seller: no draw, so a seeded run makes the same orders as before.
            seller = self.sellers[0] if len(self.sellers) == 1 else self.rng.choice(self.sellers)
            spec = varied_spec(self.rng, state, seller, now - DEMO_BACKDATE)
            order = build_order(state, spec, self.rng)
            state.add_order(order)
            if order.status == "PENDING":
                delay = timedelta(seconds=self.rng.uniform(30, 180))
                self._pending.append((now + delay, order.order_id))
            if self.rng.random() < 0.08:
                unshipped = [
                    o.order_id
                    for o in state.orders_of(seller)
                    if o.status == "UNSHIPPED" and o.fulfilled_by == "MERCHANT"
                ]
                if unshipped:
                    state.request_cancellation(
                        self.rng.choice(unshipped), self.rng.choice(CANCEL_REASONS), None
                    )
            state.mark_changed()


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket for uvicorn. TCP_NODELAY is inherited by accepted connections:
    without it a small response waits ~40 ms for a delayed ACK (Nagle) on every call."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def default_base_url(host: str, port: int) -> str:
    """Where a client on this machine reaches a sandbox bound to ``host``: a wildcard address
    (every interface) is reached at the loopback address."""
    reachable = "127.0.0.1" if host in _WILDCARD_HOSTS else host
    if ":" in reachable:  # an IPv6 address
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"


def serve(
    host: str,
    port: int,
    rate_factor: float = 1.0,
    demo_orders_per_minute: float = 0.0,
    demo_settlement_minutes: float = 0.0,
    base_url: str | None = None,
    state_file: Path | None = None,
    sellers: int = 1,
    sqs_endpoint_url: str | None = None,
    aws_region: str = "us-east-1",
    notification_delay_s: float = 1.0,
) -> None:
    """Serve the sandbox until SIGINT/SIGTERM (uvicorn's own handlers stop it gracefully).

    ``base_url`` is where clients reach it, the start of the document URLs it hands out
    (default: ``default_base_url``); behind another name (a container's service name, a
    proxy) pass that name. ``state_file``: where the state is kept across restarts (None: in
    memory only); ``keeper.StateFileError`` when it cannot be read or another sandbox keeps it.
    ``sellers``: the demo sellers it knows (2..N beside its own; added when missing, after
    the kept state is loaded).
    """
    state = SandboxState(rate_factor)
    public = base_url or default_base_url(host, port)
    keeper = StateKeeper(state, state_file, public) if state_file is not None else None
    if keeper is not None:
        keeper.open()
    notifier = install_notifier(state)  # after loading: what was kept counts as announced
    notifier.configure(
        endpoint_url=sqs_endpoint_url or None, region=aws_region, delay_s=notification_delay_s
    )
    add_demo_sellers(state, sellers)
    every_seller = (DEMO_SELLER.seller_id, *(s.seller_id for s in demo_sellers(sellers)))
    demo = (
        DemoGenerator(
            state,
            demo_orders_per_minute,
            sellers=every_seller,
            settle_every_s=demo_settlement_minutes * 60,
        )
        if demo_orders_per_minute > 0
        else None
    )
    # log_config=None: uvicorn's lines go through the process's own logging (one format).
    config = uvicorn.Config(
        create_app(state, public),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        log_config=None,
        date_header=False,  # the app's Date is the sandbox clock's (``app.DatedByItsClock``)
    )
    server = uvicorn.Server(config)
    log.info(
        "sandbox on http://%s:%d, reached at %s (rate_factor=%s, demo orders/min=%s, state %s)",
        host,
        port,
        public,
        rate_factor,
        demo_orders_per_minute,
        keeper.path if keeper is not None else "in memory only",
    )
    if demo is not None:
        demo.start()
    # uvicorn stops gracefully on SIGINT/SIGTERM and then re-raises the signal with the handlers
    # it found. Finding these instead, ``serve`` returns normally after a graceful stop, so the
    # caller (the CLI) exits 0 rather than dying of the signal with a KeyboardInterrupt trace.
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda n, _f: received.append(n)) for sig in _SIGNALS}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if demo is not None:
            demo.stop()
        notifier.close()
        if keeper is not None:
            keeper.close()
        log.info("sandbox stopped%s", f" on signal {received[0]}" if received else "")


@contextmanager
def running_sandbox(
    rate_factor: float = 1.0,
    port: int = 0,
    state_file: Path | None = None,
    *,
    sqs_endpoint_url: str | None = None,
    notification_delay_s: float = 0.0,
) -> Iterator[SandboxHandle]:
    """A sandbox on 127.0.0.1 in a background thread, stopped when the block ends (its state
    kept in ``state_file`` when one is given; notifications sent to the queues on
    ``sqs_endpoint_url``)."""
    state = SandboxState(rate_factor)
    sock = _bind("127.0.0.1", port)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    keeper = StateKeeper(state, state_file, base_url) if state_file is not None else None
    if keeper is not None:
        try:
            keeper.open()
        except BaseException:
            sock.close()
            raise
    notifier = install_notifier(state)  # after loading: what was kept counts as announced
    notifier.configure(endpoint_url=sqs_endpoint_url, delay_s=notification_delay_s)
    config = uvicorn.Config(
        create_app(state, base_url),
        log_level="warning",
        access_log=False,
        lifespan="off",
        date_header=False,  # the app's Date is the sandbox clock's (``app.DatedByItsClock``)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            if keeper is not None:
                keeper.close()
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    try:
        yield SandboxHandle(base_url=base_url, state=state)
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        notifier.close()
        sock.close()
        if keeper is not None:
            keeper.close()
