"""The one queue list: the Procfile, the CLI, Celery's imports, queues and
routes all name the same queues."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from workers.queues import QUEUES, WITH_TASKS, UnknownQueue, queue_of, task_modules
from workers.supervisor import (
    ProcfileError,
    procfile_commands,
    procfile_processes,
    worker_queues,
)

ROOT = Path(__file__).resolve().parents[3]


def test_the_procfile_starts_one_worker_per_queue() -> None:
    commands = procfile_commands((ROOT / "Procfile").read_text())
    assert sorted(worker_queues(commands)) == sorted(QUEUES)
    for queue in QUEUES:  # each named after its queue
        assert commands[queue][:3] == ["amazon-channel", "worker", queue]


def test_the_supervisor_refuses_a_procfile_that_misses_a_queue(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    lines = [f"{q}: amazon-channel worker {q}" for q in QUEUES if q != "payout"]
    procfile.write_text("\n".join(["beat: amazon-channel beat", *lines]) + "\n")
    with pytest.raises(ProcfileError, match="payout"):
        procfile_processes(procfile)
    assert [p.name for p in procfile_processes()][:2] == ["beat", "ingest"]


def test_the_cli_offers_exactly_the_queues() -> None:
    from workers.cli import main

    worker: Any = main.commands["worker"]
    (queue,) = [p for p in worker.params if p.name == "queue"]
    assert tuple(queue.type.choices) == QUEUES


def test_every_queue_with_tasks_has_its_module_and_the_others_have_none() -> None:
    assert task_modules() == tuple(f"workers.tasks.{q}" for q in WITH_TASKS)
    for queue in QUEUES:
        spec = importlib.util.find_spec(f"workers.tasks.{queue}")
        assert (spec is not None) == (queue in WITH_TASKS), queue


def test_a_tasks_queue_is_its_names_first_part() -> None:
    assert queue_of("fulfil.confirm") == "fulfil"
    assert queue_of("ingest.sync_account") == "ingest"
    for bad in ("fulfil", "shipping.confirm", ".confirm", "Fulfil.confirm"):
        with pytest.raises(UnknownQueue):
            queue_of(bad)
