"""``check_reachable``, the check every CLI command makes before its work: a server whose path
drops packets (it accepts the connection, then never answers) is named in one error within the
timeout. Before, a broker URL of its own (Redis as broker, beside ``REDIS_URL``) was pinged with
no read timeout, so a command such as ``amazon-channel fulfil`` hung there, before its commit."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from infra.embedded import ServiceUnreachable, ServiceUrls, check_reachable

pytestmark = pytest.mark.integration


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections (the kernel completes them into the backlog) and never
    sends a byte back: a blackholed path as a client sees it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_a_redis_that_never_answers_is_named_not_waited_for(
    database_url: str, redis_url: str, silent_port: int
) -> None:
    silent = f"redis://127.0.0.1:{silent_port}/0"
    with pytest.raises(ServiceUnreachable, match=f"cannot reach Redis at {silent}"):
        check_reachable(ServiceUrls(database_url, silent, silent), timeout_s=1)


def test_a_redis_broker_that_never_answers_is_named_not_waited_for(
    database_url: str, redis_url: str, silent_port: int
) -> None:
    silent = f"redis://127.0.0.1:{silent_port}/1"
    with pytest.raises(ServiceUnreachable, match=f"cannot reach the broker at {silent}"):
        check_reachable(ServiceUrls(database_url, redis_url, silent), timeout_s=1)


def test_servers_that_answer_pass(database_url: str, redis_url: str, broker_url: str) -> None:
    check_reachable(ServiceUrls(database_url, redis_url, broker_url), timeout_s=5)
