"""Fixtures of the refund tests: a fixed clock, and a fake store holding one charged order."""

from __future__ import annotations

import pytest

from tests.fakes import T0, FixedClock
from tests.fakes.refund_store import FakeRefundStore, charged_order


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(clock: FixedClock) -> FakeRefundStore:
    store = FakeRefundStore(clock)
    store.add_order(charged_order())
    return store
