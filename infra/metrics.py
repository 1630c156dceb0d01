"""What only a worker sees, as Prometheus metrics: each SP-API call's operation, outcome and
latency, and the time it waited for the seller's rate budget.

The web process's ``/metrics`` serves them with the store's counts. A worker cannot be scraped
(a Celery prefork worker is a main process and pool children that come and go), so the metrics
use prometheus-client's multiprocess mode: with ``PROMETHEUS_MULTIPROC_DIR`` in its environment
each process writes its values to memory-mapped files of its own in that folder, and the web's
``MultiProcessCollector`` adds them up at each scrape (``multiprocess_collector``). Counters and
histograms only: a dead pool child's counts stay in its file and keep counting in the sum, which
is what a counter must do (no gauge here would need ``mark_process_dead``).

Without ``PROMETHEUS_MULTIPROC_DIR`` (a CLI command, a test) the same metrics live in the
process's own registry and nobody scrapes them: harmless.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import Counter, Histogram
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from infra.amazon.http import MeteredAttempt, call_observers

# Amazon answers in tens to hundreds of milliseconds; a createFeed upload or a slow 5xx takes
# seconds; the read timeout is 30 s.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# A worker waits at most 2 s for a token (``WORKER_MAX_WAIT_S``); the CLI's backfill longer.
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0)

SPAPI_CALLS = Counter(
    "amazon_channel_spapi_calls",
    "SP-API call attempts by operation and outcome (2xx, 429, 4xx, 5xx, network)",
    ["operation", "outcome"],
)
SPAPI_LATENCY = Histogram(
    "amazon_channel_spapi_call_seconds",
    "SP-API call attempts' time on the wire (without the rate budget's wait), by operation",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
BUDGET_WAIT = Histogram(
    "amazon_channel_rate_budget_wait_seconds",
    "Time an SP-API call waited for a token of the seller's shared rate budget, by operation",
    ["operation"],
    buckets=WAIT_BUCKETS,
)

TASK_FAILURES = Counter(
    "amazon_channel_task_failures",
    "Task runs that failed, by task and kind (transient: retried; permanent: given up)",
    ["task", "kind"],
)
WORKER_METRICS: tuple[Counter | Histogram, ...] = (
    SPAPI_CALLS,
    SPAPI_LATENCY,
    BUDGET_WAIT,
    TASK_FAILURES,
)


def outcome_of(status: int | None) -> str:
    """The outcome label of an attempt: ``network`` when no answer came."""
    if status is None:
        return "network"
    if status == 429:
        return "429"
    return f"{status // 100}xx"


def record_call(attempt: MeteredAttempt) -> None:
    """The observer of ``infra.amazon.http``: one attempt counted, timed and its wait noted."""
    SPAPI_CALLS.labels(attempt.operation, outcome_of(attempt.status)).inc()
    SPAPI_LATENCY.labels(attempt.operation).observe(max(0.0, attempt.elapsed_s))
    BUDGET_WAIT.labels(attempt.operation).observe(max(0.0, attempt.waited_s))


def observe_calls() -> None:
    """Count this process's SP-API calls (a worker's, at its start); once is enough."""
    if record_call not in call_observers:
        call_observers.append(record_call)


class WorkerMetrics(Collector):
    """``WORKER_METRICS`` as every process wrote them in ``folder``, added up; one that no
    process has written yet is a family without samples (a scrape always names them all).
    Anything else in the folder (another program's metrics in a shared folder, Flower's if it
    was given the variable) is left out: Flower serves its own ``/metrics``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def collect(self) -> Iterator[Metric]:
        found: dict[str, Metric] = {}
        if self.folder.is_dir():
            reader = MultiProcessCollector(None, path=str(self.folder))  # type: ignore[no-untyped-call]
            found = {metric.name: metric for metric in reader.collect()}  # type: ignore[no-untyped-call]
        for declared in WORKER_METRICS:
            for family in declared.describe():
                yield found.get(family.name, family)


def fresh_folder(folder: Path) -> Path:
    """Empty ``folder`` (a run's start: the files of processes that are gone would add to the
    new run's counts forever) and make sure it exists."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
