"""One attempt's lease (``workers.leases``) on the fulfilment store's fake: a fresh token per
attempt, the heartbeat that keeps it alive, the check an SP-API call makes first, and the lease
let go when the attempt ends, however it ends."""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest

from domain.fulfilments import FulfilmentState
from domain.shared import LeaseLost
from infra.amazon.fence import current
from tests.fakes import T0, FakeFulfilmentStore, FixedClock, order_snapshot
from tests.unit.domain.fulfilments.helpers import accepted
from workers import leases


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(clock: FixedClock) -> FakeFulfilmentStore:
    fake = FakeFulfilmentStore(clock)
    fake.add_order(order_snapshot())
    return fake


def _attempt(
    store: FakeFulfilmentStore, fid: int, every_s: float = leases.HEARTBEAT_S
) -> AbstractContextManager[str]:
    return leases.attempt(
        f"fulfilment {fid}",
        renew=lambda token, lease: store.renew_lease(fid, token, lease),
        let_go=lambda token: store.let_go(fid, token),
        every_s=every_s,
    )


def test_every_attempt_has_a_token_of_its_own(store: FakeFulfilmentStore) -> None:
    with _attempt(store, 1) as first, _attempt(store, 1) as second:
        assert first != second and first.startswith("attempt-")


def test_the_heartbeat_keeps_the_lease_alive_while_the_attempt_runs(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    with _attempt(store, fulfilment.id, every_s=0.02) as token:
        assert store.claim(fulfilment.id, token, leases.LEASE) is not None
        clock.at = T0 + timedelta(seconds=25)
        deadline = time.monotonic() + 5
        while store.leases[fulfilment.id][1] != clock.at + leases.LEASE:
            assert time.monotonic() < deadline, "the heartbeat did not renew"
            time.sleep(0.01)
    assert not [t for t in threading.enumerate() if t.name == f"fulfilment {fulfilment.id}"]


def test_a_call_inside_the_attempt_checks_the_lease_first(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    with _attempt(store, fulfilment.id) as token:
        fence = current()
        assert fence is not None
        assert store.claim(fulfilment.id, token, leases.LEASE) is not None
        assert fence.ready() == leases.CALL_TIMEOUT  # held: renewed, the call may go
        clock.at = T0 + leases.LEASE  # paused past the lease...
        assert store.claim(fulfilment.id, "attempt-other", leases.LEASE) is not None  # taken
        with pytest.raises(LeaseLost):
            fence.ready()
    assert current() is None


def test_an_attempt_that_raises_lets_its_lease_go_for_its_own_retry(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock)
    with pytest.raises(ConnectionError), _attempt(store, fulfilment.id) as token:
        assert store.claim(fulfilment.id, token, leases.LEASE) is not None
        raise ConnectionError("the database went away after the call")
    assert store.rows[fulfilment.id].state is FulfilmentState.SENDING
    retried = store.claim(fulfilment.id, "attempt-retry", leases.LEASE)
    assert retried is not None, "the retry is not locked out by the attempt before it"
