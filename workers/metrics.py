"""A worker's own metrics (multiprocess mode: ``infra.metrics``), switched on at its start by
``workers.app``: every SP-API call, and each task's failures by kind.

``transient``: the task is retried (the base's policy, ``workers.base``); ``permanent``: it
failed for good (its failure is recorded in the store, or dead-lettered).
"""

from __future__ import annotations

from typing import Any

from celery import signals

from infra.metrics import TASK_FAILURES, observe_calls


def _name(sender: Any) -> str:
    return str(getattr(sender, "name", None) or "unknown")


def _count_retry(sender: Any = None, **_kwargs: Any) -> None:
    TASK_FAILURES.labels(_name(sender), "transient").inc()


def _count_failure(sender: Any = None, **_kwargs: Any) -> None:
    TASK_FAILURES.labels(_name(sender), "permanent").inc()


def start_worker_metrics() -> None:
    """Count this worker's SP-API calls and task failures (its pool children inherit it)."""
    observe_calls()
    signals.task_retry.connect(_count_retry, weak=False, dispatch_uid="metrics-retry")
    signals.task_failure.connect(_count_failure, weak=False, dispatch_uid="metrics-failure")
