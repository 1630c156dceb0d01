"""Registers the ``faults`` marker for these modules (``--strict-markers`` refuses an unknown
one), whichever configuration runs them."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: a long chaos or soak run, run by `make faults`")
