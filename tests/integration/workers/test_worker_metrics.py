"""The workers' metrics reach the web's ``/metrics``: a real ingest worker, started as the
Procfile starts it (``amazon-channel worker ingest``, which puts its metrics in DATA_DIR/metrics),
syncs from the sandbox over HTTP, and a scrape of the web (against the real store, same DATA_DIR)
counts its SP-API calls and a task's permanent failure. The same scrape names every metric the
Grafana dashboard and the alert rules use."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.settings import Settings
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.scenarios import (
    SEARCH_ORDERS,
    on_sandbox,
    project_app,
    stage,
    sync_and_wait,
    worker_env,
)
from workers import bootstrap
from workers.demo import ensure_demo_account
from workers.web import create_app

pytestmark = pytest.mark.integration

RATE_FACTOR = 500.0
OPS = Path(__file__).resolve().parents[3] / "ops"
METRIC_NAME = re.compile(r"\bamazon_channel_[a-z0-9_]+")


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    with project_app(broker_url) as app:
        yield app


class ProcfileWorker(WorkerProcess):
    """The Procfile's command for the queue, not ``celery worker`` itself."""

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker", self.queue],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def exposed(text: str) -> tuple[dict[tuple[str, frozenset[tuple[str, str]]], float], set[str]]:
    """A scrape's samples, and every name a query can use (a counter's ``_total``, a
    histogram's ``_bucket``/``_sum``/``_count``, also for families without samples yet)."""
    samples = {}
    names: set[str] = set()
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    for family in text_string_to_metric_families(text):
        names.update(family.name + s for s in suffixes.get(family.type, ("",)))
        for sample in family.samples:
            names.add(sample.name)
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, names


def dashboard_queries() -> list[str]:
    dashboard = json.loads((OPS / "grafana" / "amazon-channel.json").read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    queries += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return queries


def alert_queries() -> list[str]:
    rules = yaml.safe_load((OPS / "prometheus" / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_a_workers_calls_and_failures_show_on_the_webs_metrics_with_every_name_the_dashboard_uses(
    sandbox: SandboxHandle,
    settings: Settings,
    session_factory: sessionmaker[Session],
    clean_db: Engine,
    child_env: dict[str, str],
    celery_app: Any,
    tmp_path: Path,
) -> None:
    account_id = ensure_demo_account(session_factory).id
    data = tmp_path / "data"
    env = {**worker_env(child_env, sandbox, RATE_FACTOR), "DATA_DIR": str(data)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    stage(sandbox, 5, seed=3)
    bootstrap.use(on_sandbox(settings, sandbox, RATE_FACTOR).model_copy(update={"data_dir": data}))
    ingest = ProcfileWorker("ingest", env, tmp_path / "worker.log")
    ingest.start()
    try:
        with TestClient(create_app()) as web:
            sync_and_wait(clean_db, account_id)
            # An account that does not exist: the sync fails for good.
            celery_app.send_task("ingest.sync_account", args=[987654])

            def scrape() -> tuple[dict[Any, float], set[str]]:
                response = web.get("/metrics")
                assert response.status_code == 200
                return exposed(response.text)

            failed = ("amazon_channel_task_failures_total", frozenset(
                {("task", "ingest.sync_account"), ("kind", "permanent")}
            ))  # fmt: skip
            # At least ours (an earlier test's message may reach this worker too).
            wait_for(lambda: (scrape()[0].get(failed) or 0) >= 1, 60)
            samples, names = scrape()
    finally:
        ingest.stop()
        bootstrap.reset_and_close()
    assert any((data / "metrics").glob("counter_*.db"))

    calls = ("amazon_channel_spapi_calls_total", frozenset(
        {("operation", SEARCH_ORDERS), ("outcome", "2xx")}
    ))  # fmt: skip
    assert samples[calls] >= 1
    # Every attempt, whatever its outcome, is timed and its wait noted.
    attempts = sum(
        v
        for (name, labels), v in samples.items()
        if name == calls[0] and ("operation", SEARCH_ORDERS) in labels
    )
    latency = ("amazon_channel_spapi_call_seconds_count", frozenset({("operation", SEARCH_ORDERS)}))
    assert samples[latency] == attempts
    waits = ("amazon_channel_rate_budget_wait_seconds_count", latency[1])
    assert samples[waits] == attempts
    # The store's side of the same scrape: the orders the worker synced.
    ingested = ("amazon_channel_orders_ingested_total", frozenset({("account", "demo")}))
    assert samples[ingested] == 5

    used = {
        m for query in dashboard_queries() + alert_queries() for m in METRIC_NAME.findall(query)
    }
    assert len(used) >= 20
    assert sorted(used - names) == []
