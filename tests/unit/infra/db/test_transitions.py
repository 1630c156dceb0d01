"""The SQL store's state changes are the domain's: each UPDATE's accepted states come from
``TRANSITIONS``, and every operation that changes a state is listed with its (from, to) pairs."""

from __future__ import annotations

import pytest

from domain.fulfilments import TRANSITIONS, FulfilmentState, IllegalTransition
from infra.db.fulfilments import SqlFulfilmentStore, SqlIntakeUnit, statements
from infra.db.fulfilments.transitions import MOVES, sources_of

S = FulfilmentState


def test_every_store_operations_from_to_pair_is_allowed_by_the_domains_machine() -> None:
    for move in MOVES:
        for source, target in move.pairs():
            assert target in TRANSITIONS[source], (move.operation, source, target)


def test_the_moves_are_the_stores_state_changing_operations() -> None:
    operations = {move.operation for move in MOVES}
    assert operations == {"claim", "release", "record_confirmed", "record_failed", "reopen"}
    for operation in operations:
        owner = SqlIntakeUnit if operation == "reopen" else SqlFulfilmentStore
        assert callable(getattr(owner, operation))


def test_the_states_that_may_move_to_a_target_are_read_off_the_machine() -> None:
    assert sources_of(S.SENDING) == {S.ACCEPTED, S.SENDING}
    assert sources_of(S.ACCEPTED) == {S.SENDING, S.FAILED}
    assert sources_of(S.CONFIRMED) == {S.SENDING}
    assert sources_of(S.ACCEPTED, among={S.FAILED}) == {S.FAILED}
    with pytest.raises(IllegalTransition):
        sources_of(S.ACCEPTED, among={S.CONFIRMED})


def test_a_fenced_update_accepts_only_the_states_its_move_leaves() -> None:
    for move in MOVES:
        if move.operation in ("claim", "reopen"):
            continue
        where = statements.fenced(move).compile()
        states = {value for value in where.params.values() if value in set(S)}
        assert states == {state.value for state in move.sources}, move.operation
