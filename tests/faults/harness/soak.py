"""The soak's moving parts, each a thread of its own beside a ``Stack`` with every worker:

- ``Platform``: orders keep arriving on Amazon (about one every ``tick_s``), and once each is in
  the store the platform asks for what was planned for it through the web API: a fulfilment, a
  refund (the order shipped), a whole or a partial cancellation.
- ``Chaos``: every 30-60 s a worker (fulfil, ingest+events, refund) or beat is SIGKILLed and
  started again (beat by its supervisor), once Redis is killed with ``kill -9`` and restarted
  from its AOF, and once PostgreSQL is restarted (with RabbitMQ the broker, its node is killed
  with ``kill -9`` and restarted once too); each fault is a ``Fault``.
- ``Monitor``: each fault's recovery, from its end until every request accepted before that end
  is in a final state.
- ``Supervisor``: a worker that exits on its own is started again, as ``amazon-channel run``'s
  supervisor and docker-compose's ``restart: unless-stopped`` do; each such exit is counted (a
  Celery worker can die of a broker restart: kombu's restore of its unacked messages on a
  connection already gone, ``AttributeError: 'NoneType' object has no attribute 'hostname'``).

``summary`` is the run's report: counts per kind, the faults, the recoveries, the invariants.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from infra.db.tables import Fulfilment, Refund
from tests.faults.harness.checker import FINAL, Outcome
from tests.faults.harness.refunds import Planned, Poster, arrive, stored_orders
from tests.faults.harness.stack import Stack

# What the platform asks for the orders that arrive, by weight.
PLAN = {"fulfil": 5, "refund": 2, "whole": 2, "partial": 1}
VICTIMS = ("fulfil", "ingest", "refund", "beat")
START_S = 180.0  # a worker's start on the shared 2-core machine under load: a minute at worst


@dataclass
class Fault:
    name: str
    started: float  # seconds into the soak
    ended: float = 0.0
    waiting: frozenset[str] = frozenset()  # the requests accepted before it ended
    recovered_s: float | None = None


class Reporting(threading.Thread):
    """A soak thread whose exception is kept in ``failure`` for the test to report."""

    failure: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by the test
            self.failure = exc

    def _run(self) -> None:
        raise NotImplementedError


class Platform(Reporting):
    def __init__(self, stack: Stack, seed: int, tick_s: float = 1.5) -> None:
        super().__init__(name="soak-platform", daemon=True)
        self.stack = stack
        self.rng = random.Random(seed)
        self.tick_s = tick_s
        self.poster = Poster(stack.web)
        self.arrived: Counter[str] = Counter()
        self.waiting: list[Planned] = []
        self.arriving = threading.Event()
        self.arriving.set()
        self.unsynced: list[str] = []

    def _run(self) -> None:
        kinds, weights = list(PLAN), list(PLAN.values())
        n = 0
        last_seen = time.monotonic()
        with httpx.Client(base_url=self.stack.web, timeout=10) as http:
            while self.arriving.is_set() or self.waiting:
                if self.arriving.is_set():
                    kind = self.rng.choices(kinds, weights)[0]
                    self.waiting += arrive(self.stack.sandbox, [kind], self.rng, "S", n)
                    self.arrived[kind] += 1
                    n += 1
                elif time.monotonic() - last_seen > 180:  # the sync stopped finding them
                    self.unsynced = [p.order_id for p in self.waiting]
                    return
                try:
                    synced = stored_orders(self.stack.engine, (p.order_id for p in self.waiting))
                except Exception:  # the store restarting: ask again
                    synced = set()
                if synced:
                    last_seen = time.monotonic()
                for planned in [p for p in self.waiting if p.order_id in synced]:
                    self.poster.post(http, planned)
                    self.waiting.remove(planned)
                time.sleep(self.tick_s if self.arriving.is_set() else 0.5)

    def accepted(self) -> set[str]:
        return self.poster.ids(*PLAN)


def open_requests(stack: Stack) -> set[str] | None:
    """The platform ids of fulfilments and store refunds not final yet (None: no answer)."""
    try:
        with stack.engine.connect() as conn:
            fulfilments = conn.execute(
                select(Fulfilment.platform_fulfilment_id).where(Fulfilment.state.not_in(FINAL))
            ).scalars()
            refunds = conn.execute(
                select(Refund.platform_id).where(
                    Refund.source == "store", Refund.state.not_in(FINAL)
                )
            ).scalars()
            return {str(p) for p in fulfilments} | {str(p) for p in refunds}
    except Exception:  # PostgreSQL restarting
        return None


class Monitor(threading.Thread):
    def __init__(self, stack: Stack) -> None:
        super().__init__(name="soak-monitor", daemon=True)
        self.stack = stack
        self.faults: list[Fault] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def run(self) -> None:
        while not self.stopping.wait(1):
            with self._lock:
                pending = [f for f in self.faults if f.recovered_s is None]
            if not pending:
                continue
            found = open_requests(self.stack)
            if found is None:
                continue
            now = time.monotonic()
            for fault in pending:
                if not fault.waiting & found:
                    fault.recovered_s = now - fault.ended

    def settle(self) -> None:
        """One last look (the run is quiescent): every fault's recovery resolved."""
        self.stopping.set()
        self.join(timeout=30)
        found = open_requests(self.stack) or set()
        now = time.monotonic()
        for fault in self.faults:
            if fault.recovered_s is None and not fault.waiting & found:
                fault.recovered_s = now - fault.ended


class Supervisor(threading.Thread):
    def __init__(self, stack: Stack) -> None:
        super().__init__(name="soak-supervisor", daemon=True)
        self.stack = stack
        self.lock = threading.Lock()  # held by the chaos while it kills and starts a worker
        self.exits: Counter[str] = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        # A worker found dead twice in a row, the same process (one a test has just killed is
        # started again by the test within milliseconds: left to it).
        dead: dict[str, object] = {}
        while not self.stopping.wait(1):
            with self.lock:
                for name, worker in self.stack.workers.items():
                    process = worker.process
                    if process is None or process.poll() is None:
                        dead.pop(name, None)
                    elif dead.get(name) is not process:
                        dead[name] = process
                    else:
                        self.exits[name] += 1
                        with contextlib.suppress(RuntimeError):  # tried again in a second
                            worker.start(START_S)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=120)


class Chaos(Reporting):
    def __init__(
        self,
        stack: Stack,
        platform: Platform,
        monitor: Monitor,
        supervisor: Supervisor,
        seconds: float,
        seed: int,
    ) -> None:
        super().__init__(name="soak-chaos", daemon=True)
        self.stack, self.platform, self.monitor = stack, platform, monitor
        self.supervisor = supervisor
        self.rng = random.Random(seed)
        self.seconds = seconds
        self.begun = time.monotonic()
        self.stopping = threading.Event()
        self.kills: Counter[str] = Counter()
        self.restarts: Counter[str] = Counter()

    def _run(self) -> None:
        self.begun = time.monotonic()
        servers = [(0.35, "redis kill -9 + restart"), (0.65, "postgres restart -m fast")]
        if self.stack.rabbit is not None:  # RabbitMQ the broker: its node killed once as well
            servers.insert(1, (0.5, "rabbitmq kill -9 + restart"))
        while True:
            if self.stopping.wait(self.rng.uniform(30, 60)):
                return
            if time.monotonic() - self.begun >= self.seconds:
                break
            due = [s for s in servers if time.monotonic() - self.begun >= s[0] * self.seconds]
            if due:
                servers.remove(due[0])
                self._inject(due[0][1])
            else:
                self._inject(self.rng.choice(VICTIMS))
        for _, what in servers:  # a short soak restarts each server once too
            self._inject(what)

    def _inject(self, what: str) -> None:
        fault = Fault(what, time.monotonic() - self.begun)
        if what == "beat":
            assert self.stack.beat is not None
            self.stack.beat.kill()  # its supervisor starts it again
            self.kills["beat"] += 1
        elif what in VICTIMS:
            with self.supervisor.lock:
                worker = self.stack.workers[what]
                worker.kill()
                self.kills[what] += 1
                worker.start(START_S)
        elif what.endswith("kill -9 + restart"):  # Redis, or RabbitMQ the broker
            name = what.split()[0]
            server = self.stack.redis if name == "redis" else self.stack.rabbit
            assert server is not None
            server.kill()
            time.sleep(2)
            server.start()
            self.restarts[name] += 1
        else:
            self.stack.postgres.restart("fast")
            self.restarts["postgres"] += 1
        fault.ended = time.monotonic()
        fault.waiting = frozenset(self.platform.accepted())
        self.monitor.add(fault)


@dataclass
class Summary:
    minutes: float
    arrived: Counter[str]
    accepted: dict[str, int]
    states: Counter[str]
    kills: Counter[str]
    exits: Counter[str]
    restarts: Counter[str]
    faults: list[Fault]
    outcome: Outcome
    retries: int
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def max_recovery_s(self) -> float | None:
        found = [f.recovered_s for f in self.faults if f.recovered_s is not None]
        return max(found) if found else None

    def text(self) -> str:
        worst = self.max_recovery_s
        lines = [
            f"soak: {self.minutes:g} min",
            "orders arrived on Amazon, by plan: " + _counts(self.arrived),
            "accepted through the web API: " + _counts(Counter(self.accepted)),
            f"  (posts retried after a 5xx or a dropped connection: {self.retries}; "
            f"refused: {len(self.refused)})",
            "final states in the store: " + _counts(self.states),
            "SIGKILLs: " + _counts(self.kills) + f" (total {sum(self.kills.values())})",
            "workers that exited on their own (started again): " + _counts(self.exits),
            "restarts: " + _counts(self.restarts),
            "max recovery: " + (f"{worst:.1f} s" if worst is not None else "none measured"),
            "faults (what | recovered after):",
        ]
        for fault in self.faults:
            took = f"{fault.recovered_s:.1f} s" if fault.recovered_s is not None else "NOT"
            lines.append(f"  {fault.started:9.1f} {fault.name} | {took}")
        lines.append("invariants I1-I3, I5-I6 at the end: " + self.outcome.line())
        return "\n".join(lines)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"
