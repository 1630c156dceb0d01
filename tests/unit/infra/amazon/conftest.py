"""The scripted Amazon the client's unit tests talk to: its fake answers, a recording limiter, the
sleeps the client asked for, and a client over them (``fake_spapi``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.amazon.client import SpApiClient
from tests.unit.infra.amazon.fake_spapi import FakeAmazon, RecordingLimiter, scripted_client


@pytest.fixture
def amazon() -> FakeAmazon:
    return FakeAmazon()


@pytest.fixture
def limiter() -> RecordingLimiter:
    return RecordingLimiter()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(
    amazon: FakeAmazon, limiter: RecordingLimiter, sleeps: list[float]
) -> Iterator[SpApiClient]:
    with scripted_client(amazon, limiter, sleeps) as spapi:
        yield spapi
