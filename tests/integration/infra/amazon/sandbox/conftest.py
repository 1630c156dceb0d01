"""A sandbox with its limits lifted and a client for it, fresh for each test.

The feed and shipment tests drive the sandbox through richer helpers and define a ``sandbox``
fixture of their own, which takes the place of this one there.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from infra.amazon.sandbox.server import running_sandbox
from tests.integration.infra.amazon.sandbox.api import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox(rate_factor=0) as handle, httpx.Client(base_url=handle.base_url) as client:
        yield handle, client
