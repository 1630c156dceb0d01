"""The lazy-start probe reads the task names of waiting Redis messages and tells housekeeping
ticks from work."""

from __future__ import annotations

import json

from infra.broker import counts_as_work, is_amqp, task_name


def _message(task: str) -> bytes:
    return json.dumps({"body": "W10=", "headers": {"task": task, "id": "1"}}).encode()


def test_the_task_name_is_read_from_the_message_headers() -> None:
    assert task_name(_message("refund.intake")) == "refund.intake"
    assert task_name(b"not json") is None
    assert task_name(b'{"headers": "x"}') is None
    assert task_name(b"[1]") is None


def test_only_housekeeping_waiting_is_no_work_and_anything_else_is() -> None:
    sweeps = frozenset({"refund.sweep"})
    assert not counts_as_work([], sweeps)
    assert not counts_as_work(["refund.sweep", "refund.sweep"], sweeps)
    assert counts_as_work(["refund.sweep", "refund.intake"], sweeps)
    assert counts_as_work([None], sweeps), "a message we cannot read counts"
    assert counts_as_work(["refund.sweep"], frozenset())


def test_is_amqp_knows_rabbitmq_urls_from_redis_ones() -> None:
    assert is_amqp("amqp://guest:guest@127.0.0.1:5672//")
    assert is_amqp("pyamqp://guest@localhost//")
    assert not is_amqp("redis://127.0.0.1:6379/0")
    assert not is_amqp("")
