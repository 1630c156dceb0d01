"""``/metrics``: one registry per scrape, of three sources.

- the store's counts and ages (``infra.db.metrics.StoreCollector``);
- what the broker and Redis hold now (``LiveCollector``): messages waiting per queue, and
  each syncing account's ``searchOrders`` tokens left in its shared rate budget (read from
  Redis as the scheduler reads it, nothing taken: a bucket refills between calls, so a
  worker's last view of it would be stale);
- the workers' SP-API calls, waits and task failures, added up from the files they write in
  ``Settings.metrics_dir()`` (prometheus-client's multiprocess mode, ``infra.metrics``).

A source that cannot be read is left out of the scrape (and logged at DEBUG) rather than
failing it: Prometheus' ``up`` and the remaining metrics still say what they can.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from infra.broker import QueueProbe
from infra.db.metrics import StoreCollector
from infra.metrics import WorkerMetrics
from workers import bootstrap
from workers.queues import QUEUES

log = logging.getLogger(__name__)
SEARCH_ORDERS = bootstrap.SEARCH_ORDERS


class LiveCollector(Collector):
    """Queue depths and rate-budget tokens, read at the scrape."""

    def __init__(self, container: bootstrap.Container) -> None:
        self.container = container

    def collect(self) -> Iterator[Metric]:
        yield self._queues()
        yield self._budgets()

    def _queues(self) -> GaugeMetricFamily:
        metric = GaugeMetricFamily(
            "amazon_channel_queue_depth",
            "Messages waiting on the broker, per queue",
            labels=["queue"],
        )
        settings = self.container.settings
        probe = QueueProbe(settings.broker_url or settings.redis_url)
        try:
            for queue in QUEUES:
                depth = probe.depth(queue)
                if depth is not None:
                    metric.add_metric([queue], depth)
        finally:
            probe.close()
        return metric

    def _budgets(self) -> GaugeMetricFamily:
        metric = GaugeMetricFamily(
            "amazon_channel_rate_budget_tokens",
            "Tokens left now in the account's shared rate budget, by operation",
            labels=["account", "operation"],
        )
        try:
            accounts = bootstrap.active_accounts()
            budgets = self.container.search_budgets(accounts)
        except Exception as exc:  # noqa: BLE001 (a scrape reports what it can)
            log.debug("cannot read the rate budgets: %s", exc)
            return metric
        for account, budget in zip(accounts, budgets, strict=True):
            if budget is not None:
                metric.add_metric([account.name, SEARCH_ORDERS], budget.tokens)
        return metric


def scrape() -> bytes:
    """The text of one scrape."""
    container = bootstrap.container()
    # No auto-describe: nothing is read when the collectors are registered, only at the scrape.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(container.engine))
    registry.register(LiveCollector(container))
    registry.register(WorkerMetrics(container.settings.metrics_dir()))
    return generate_latest(registry)
