"""Fixtures of the fulfilment tests: a fixed clock, and a fake store holding one order."""

from __future__ import annotations

import pytest

from tests.fakes import T0, FakeFulfilmentStore, FixedClock, order_snapshot


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(clock: FixedClock) -> FakeFulfilmentStore:
    store = FakeFulfilmentStore(clock)
    store.add_order(order_snapshot())
    return store
