"""A sandbox with its limits lifted, logged in as the demo seller, for the reports tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from infra.amazon.sandbox.server import running_sandbox
from tests.integration.infra.amazon.sandbox.feeds.support import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox(rate_factor=0) as handle, httpx.Client(base_url=handle.base_url) as client:
        yield Sandbox(handle, client)
