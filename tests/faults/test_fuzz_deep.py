"""The API fuzzed deeper than ``make test`` does (``make faults``): the same checks as
``tests/integration/workers/web/test_fuzz.py`` with many more examples per operation, in-process
and against a real web process (uvicorn) over loopback, where a connection reset would show."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from domain.orders import AmazonOrder
from tests.integration.workers.fulfilments import TOKEN
from tests.integration.workers.web.fuzzing import (
    AUTHS,
    api_schema,
    check_answer,
    document_schema,
)
from workers import bootstrap

pytestmark = [pytest.mark.integration, pytest.mark.faults]

# Twelve and a half times ``make test``'s 20 per operation in-process (it was 500 and 200, about
# 500 s of make faults; halved to give the chaos runs' RabbitMQ rows room in CI's 90 minutes).
in_process = api_schema(max_examples=250)
over_http = document_schema(max_examples=100)
SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@in_process.parametrize()
@settings(deadline=None, suppress_health_check=SLOW)
def test_no_input_gets_a_server_error_and_every_refusal_has_the_error_shape(
    case: Any, container: bootstrap.Container, order: AmazonOrder
) -> None:
    for headers in AUTHS.values():
        check_answer(case, headers)


@pytest.fixture
def web_process(
    child_env: dict[str, str], container: bootstrap.Container, order: AmazonOrder
) -> Iterator[str]:
    """The web process as the Procfile starts it, on the session's store, on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**child_env, "API_TOKENS": TOKEN}
    command = [sys.executable, "-m", "uvicorn", "--factory", "workers.web:create_app"]
    process = subprocess.Popen([*command, "--port", str(port), "--log-level", "warning"], env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base_url}/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


@over_http.parametrize()
@settings(deadline=None, suppress_health_check=SLOW)
def test_a_real_web_process_never_errs_nor_resets_the_connection(
    case: Any, web_process: str
) -> None:
    for headers in AUTHS.values():
        check_answer(case, headers, base_url=web_process)
