"""The fulfilment's state machine, its lease, and the quantities an order has left."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.fulfilments import (
    FulfilmentState,
    IllegalTransition,
    ItemSnapshot,
    can_claim,
    check_transition,
)
from tests.fakes import T0


def test_amazons_shipped_count_and_our_confirmed_one_are_not_counted_twice() -> None:
    # Read back: Amazon counts our confirmed package; before that only we do.
    read_back = ItemSnapshot("A", None, 3, quantity_shipped=2, quantity_confirmed=2)
    not_yet = ItemSnapshot("A", None, 3, quantity_shipped=0, quantity_confirmed=2)
    seller_central = ItemSnapshot("A", None, 3, 1, quantity_confirmed=0, quantity_pending=1)
    assert read_back.quantity_remaining == not_yet.quantity_remaining == 1
    assert seller_central.quantity_remaining == 1


def test_the_state_machine_allows_only_its_transitions() -> None:
    s = FulfilmentState
    allowed = {
        (s.ACCEPTED, s.SENDING),
        (s.SENDING, s.SENDING),
        (s.SENDING, s.ACCEPTED),
        (s.SENDING, s.CONFIRMED),
        (s.SENDING, s.FAILED),
        (s.FAILED, s.ACCEPTED),
    }
    for current in s:
        for new in s:
            if (current, new) in allowed:
                check_transition(current, new)
            else:
                with pytest.raises(IllegalTransition):
                    check_transition(current, new)


def test_a_lease_is_taken_only_when_free_or_run_out_never_by_a_second_attempt() -> None:
    s, later = FulfilmentState, T0 + timedelta(minutes=1)
    assert can_claim(s.ACCEPTED, None, T0)
    assert not can_claim(s.SENDING, later, T0)  # a live lease: not even a copy of its message
    assert can_claim(s.SENDING, T0, later)  # ran out: its worker died or stalled
    assert not can_claim(s.CONFIRMED, None, T0)
    assert not can_claim(s.FAILED, None, T0)
