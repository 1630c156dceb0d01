"""The long chaos and soak runs (``make faults``), marked ``faults`` so ``make test`` can skip
them. The marker is registered here too, so the runs collect under ``--strict-markers`` wherever
the project's own list of markers stands."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: a long chaos or soak run, for make faults")
