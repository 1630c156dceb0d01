"""What a dead letter says of a broker message, however broken: its headers when it has them,
its arguments when its body is a task's, else its body as text, keyed by a digest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from kombu.exceptions import DecodeError

from workers.deadletters import failed_task, from_message


@dataclass
class Message:
    """The three attributes of a kombu message the consumer hands over."""

    body: Any
    headers: Any = field(default_factory=dict)
    delivery_info: Any = field(default_factory=lambda: {"routing_key": "fulfil"})


def test_a_task_body_keeps_its_arguments_and_can_be_sent_again() -> None:
    message = Message(b'[[1, "a"], {"k": 2}, {}]', {"task": "fulfil.nope", "id": "t-1"})
    letter = from_message(message, "unknown_task", KeyError("fulfil.nope"))
    assert (letter.message_key, letter.task_name, letter.queue) == ("t-1", "fulfil.nope", "fulfil")
    assert (letter.args, letter.kwargs, letter.body) == ([1, "a"], {"k": 2}, None)
    assert (letter.error_type, letter.error_message) == ("KeyError", "'fulfil.nope'")


def test_a_body_that_is_not_json_is_kept_as_text_under_its_digest() -> None:
    raw = b"\xff{not json"
    letter = from_message(Message(raw, None, None), "malformed", DecodeError("bad"))
    assert letter.message_key == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert letter.body == "\ufffd{not json"
    assert (letter.task_name, letter.task_id, letter.queue, letter.args) == (None, None, None, None)


def test_json_of_another_shape_is_kept_as_text() -> None:
    letter = from_message(Message('{"hello": "world"}'), "malformed", None)
    assert letter.body == '{"hello": "world"}' and letter.args is None
    assert letter.error_message == "not a task message (no task name in its headers or body)"


@dataclass
class Request:
    """What a task's request says of itself (``celery.app.task.Context``)."""

    task: str
    id: str
    retries: int = 0
    delivery_info: Any = field(default_factory=lambda: {"routing_key": "ingest"})


def test_a_failing_tick_is_one_letter_per_task_arguments_and_error() -> None:
    boom = ValueError("boom")
    first = failed_task(Request("ingest.sync_account", "t-1"), boom, [3], {})
    again = failed_task(Request("ingest.sync_account", "t-2"), boom, [3], {})
    other = failed_task(Request("ingest.sync_account", "t-3"), boom, [4], {})
    assert first.message_key == again.message_key != other.message_key
    assert first.message_key.startswith("tick:")
    task = failed_task(Request("fulfil.confirm", "t-4"), boom, [3], {})
    assert (task.message_key, task.task_id, task.args) == ("t-4", "t-4", [3])
