"""The fulfilment state machine as the SQL store enforces it: the domain's ``TRANSITIONS``.

Each state change of the store is one conditional UPDATE; the states its ``WHERE`` accepts are
taken from the domain's machine here, never written by hand, and ``MOVES`` lists every change the
store makes so a test can hold each (from, to) pair against ``TRANSITIONS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_

from domain.fulfilments import TRANSITIONS, FulfilmentState, IllegalTransition


def sources_of(
    target: FulfilmentState, among: Iterable[FulfilmentState] | None = None
) -> frozenset[FulfilmentState]:
    """The states that may move to ``target`` (of ``among`` only, when given: an operation may
    take one of several allowed paths; asking for one the machine forbids is an error)."""
    allowed = frozenset(state for state, nexts in TRANSITIONS.items() if target in nexts)
    if among is None:
        return allowed
    wanted = frozenset(among)
    if not wanted <= allowed:
        forbidden = ", ".join(sorted(wanted - allowed))
        raise IllegalTransition(f"a fulfilment cannot go from {forbidden} to {target}")
    return wanted


@dataclass(frozen=True, slots=True)
class Move:
    """One state change of the store: the operation, the states it leaves, the one it enters."""

    operation: str
    sources: frozenset[FulfilmentState]
    target: FulfilmentState

    def pairs(self) -> frozenset[tuple[FulfilmentState, FulfilmentState]]:
        return frozenset((source, self.target) for source in self.sources)


S = FulfilmentState
# accepted, or sending whose lease ran out or is the claimant's own -> sending
CLAIM = Move("claim", sources_of(S.SENDING), S.SENDING)
RELEASE = Move("release", sources_of(S.ACCEPTED, among={S.SENDING}), S.ACCEPTED)
CONFIRM = Move("record_confirmed", sources_of(S.CONFIRMED), S.CONFIRMED)
FAIL = Move("record_failed", sources_of(S.FAILED), S.FAILED)
REOPEN = Move("reopen", sources_of(S.ACCEPTED, among={S.FAILED}), S.ACCEPTED)
MOVES = (CLAIM, RELEASE, CONFIRM, FAIL, REOPEN)


def in_states(column: Any, states: Iterable[FulfilmentState]) -> ColumnElement[bool]:
    """``column`` in ``states``, spelled out as equalities: an IN list would be expanded at
    every execution of a compiled statement."""
    ordered = sorted(states)
    return or_(*(column == state.value for state in ordered))
