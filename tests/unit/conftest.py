"""Unit tests are pure: no network. A test here that opens a socket fails (pytest-socket), so a
unit test cannot quietly start talking to a server; those belong under ``tests/integration``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=False)
    try:
        yield
    finally:
        enable_socket()
