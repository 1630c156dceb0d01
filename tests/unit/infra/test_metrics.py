"""The workers' metrics: an SP-API attempt's outcome label, the observer hook it is counted by,
and the folder a run empties."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from infra.amazon.http import MeteredAttempt, call_observers
from infra.metrics import fresh_folder, observe_calls, outcome_of, record_call


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "2xx"), (204, "2xx"), (429, "429"), (400, "4xx"), (404, "4xx"), (503, "5xx"),
     (None, "network")],
)  # fmt: skip
def test_an_attempt_is_labelled_by_its_answer(status: int | None, outcome: str) -> None:
    assert outcome_of(status) == outcome


def test_an_attempt_is_counted_timed_and_its_wait_noted() -> None:
    labels = {"operation": "test.metricsOnly", "outcome": "429"}
    before = REGISTRY.get_sample_value("amazon_channel_spapi_calls_total", labels) or 0.0
    record_call(MeteredAttempt("test.metricsOnly", 429, None, waited_s=0.5, elapsed_s=0.02))
    assert REGISTRY.get_sample_value("amazon_channel_spapi_calls_total", labels) == before + 1
    waited = REGISTRY.get_sample_value(
        "amazon_channel_rate_budget_wait_seconds_sum", {"operation": "test.metricsOnly"}
    )
    assert waited is not None and waited >= 0.5


def test_the_observer_is_registered_once() -> None:
    before = list(call_observers)
    try:
        observe_calls()
        observe_calls()
        assert call_observers.count(record_call) == 1
    finally:
        call_observers[:] = before


def test_a_runs_start_empties_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"old")
    assert list(fresh_folder(folder).iterdir()) == []
    assert fresh_folder(tmp_path / "new").is_dir()
