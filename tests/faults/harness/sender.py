"""Tasks sent by a process of another environment's own (``TaskSender``).

The project's Celery configuration is read when ``workers.config`` is first imported: its
queues, exchanges and their arguments follow the broker URL of that moment (on RabbitMQ,
quorum queues and topic exchanges; on Redis, plain ones). A test process configured for the
session's Redis therefore cannot publish to a RabbitMQ node a scenario owns (RabbitMQ refuses
the redeclared exchange). This child imports the project with the scenario's environment and
publishes what the test asks, one JSON line each, so the messages are the ones production's
producers would send."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from types import TracebackType
from typing import Any

LOOP = """
import json, sys
from workers.app import app
for line in sys.stdin:
    asked = json.loads(line)
    try:
        app.send_task(asked["name"], args=asked["args"], queue=asked["queue"],
                      task_id=asked["task_id"])
        print("ok", flush=True)
    except Exception as exc:
        print(f"error {exc!r}", flush=True)
app.close()
"""


class TaskSender:
    """``send_task`` (the subset the fault tests use) through a child process; thread-safe."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> TaskSender:
        self._process = subprocess.Popen(
            [sys.executable, "-c", LOOP],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        return self

    def send_task(
        self,
        name: str,
        args: list[Any] | None = None,
        queue: str | None = None,
        task_id: str | None = None,
    ) -> None:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        asked = {"name": name, "args": args or [], "queue": queue, "task_id": task_id}
        with self._lock:
            process.stdin.write(json.dumps(asked) + "\n")
            process.stdin.flush()
            answer = process.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"the sender could not send {name}: {answer or 'it exited'}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        finally:
            process.stdout.close()
