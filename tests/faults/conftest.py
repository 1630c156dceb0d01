"""The long chaos and soak runs (``make faults``): real worker processes killed mid-task, Amazon
throttling and failing, many processes on one rate budget, the deep fuzzing of the API. Each
module is marked ``faults``, which ``make test`` leaves out. The fixtures of the fulfilment doors
(``tests.integration.workers``) serve the deep runs too."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import brokers
from tests.integration.workers.fulfilments import (  # noqa: F401 (fixtures, found by name)
    account_id,
    container,
    order,
    sender,
)


@pytest.fixture
def chaos_broker(request: pytest.FixtureRequest, broker_url: str, tmp_path: Path) -> Iterator[str]:
    """A chaos run's broker URL: the session's Redis, unless the test is parametrized with
    ``brokers.BROKERS`` (``indirect=True``), which gives a RabbitMQ node of its own as well."""
    with brokers.chaos_broker(getattr(request, "param", "redis"), broker_url, tmp_path) as url:
        yield url


@pytest.fixture
def sweeps(celery_app: Any, env: dict[str, str]) -> Iterator[Any]:
    """Sends beat's triggers on the run's broker (``env``'s, a module's fixture)."""
    with brokers.beat_sender(celery_app, env) as trigger:
        yield trigger


def pytest_terminal_summary(terminalreporter: object) -> None:
    """The fault matrix's lines (``scenario | invariant | outcome | recovery s``), once more at
    the end of the run, for the README's results table. Under pytest-xdist the scenarios ran in
    other processes: their lines are read from the ``FAULT_MATRIX_RESULTS`` file they wrote."""
    from tests.faults.harness.checker import RESULTS

    lines = list(RESULTS)
    target = os.environ.get("FAULT_MATRIX_RESULTS")
    if not lines and target and os.path.exists(target):
        with open(target, encoding="utf-8") as gathered:
            lines = gathered.read().splitlines()
    if lines:
        write = terminalreporter.write_line  # type: ignore[attr-defined]
        write("fault matrix: scenario | invariant | outcome | recovery s")
        for line in lines:
            write(line)
