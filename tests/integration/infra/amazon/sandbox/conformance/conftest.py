"""One world of orders for the module that checks every case against the model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.infra.amazon.sandbox.conformance.world import World, built_world


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with built_world() as built:
        yield built
