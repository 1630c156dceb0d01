"""Celery's configuration derives from the one queue list, and every task is a ``ChannelTask``
routed by its name (no per-task ``queue`` option, which Celery deprecates)."""

from __future__ import annotations

import importlib

from workers import config
from workers.app import app
from workers.base import ChannelTask
from workers.queues import QUEUES, WITH_TASKS, queue_of, task_modules


def _project_tasks() -> dict[str, ChannelTask]:
    for module in task_modules():
        importlib.import_module(module)
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_celery_imports_declares_and_routes_the_one_list() -> None:
    assert config.imports == task_modules()
    assert [q.name for q in config.task_queues] == list(QUEUES)
    assert config.task_default_queue in QUEUES
    assert set(config.QUEUE_ARGUMENTS) <= set(QUEUES)
    for queue in QUEUES:
        route = app.amqp.router.route({}, f"{queue}.anything")
        assert route["queue"].name == queue and route["routing_key"] == queue


def test_every_task_is_a_channel_task_on_its_queue_with_no_queue_option() -> None:
    tasks = _project_tasks()
    assert {queue_of(name) for name in tasks} == set(WITH_TASKS)
    for name, task in tasks.items():
        assert isinstance(task, ChannelTask), name
        assert getattr(task, "queue", None) is None, f"{name} routes by name, not by option"
        assert app.amqp.router.route({}, name)["queue"].name == queue_of(name)


def test_the_beat_schedule_names_only_tasks_that_exist() -> None:
    tasks = _project_tasks()
    assert {entry["task"] for entry in config.beat_schedule.values()} <= set(tasks)
