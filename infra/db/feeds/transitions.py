"""The submission's state machine as the SQL store enforces it: the domain's ``TRANSITIONS``.

Each state change is one conditional UPDATE; the states its ``WHERE`` accepts are taken from
the domain's machine here, never written by hand, and ``MOVES`` lists every change the store
makes so a test can hold each (from, to) pair against ``TRANSITIONS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_

from domain.feeds import TRANSITIONS, IllegalFeedTransition, SubmissionState

State = TypeVar("State", bound=StrEnum)


def sources_in(
    machine: Mapping[State, frozenset[State]], target: State, among: Iterable[State] | None = None
) -> frozenset[State]:
    """The states of ``machine`` that may move to ``target`` (of ``among`` only, when given;
    asking for one the machine forbids is an error)."""
    allowed = frozenset(state for state, nexts in machine.items() if target in nexts)
    if among is None:
        return allowed
    wanted = frozenset(among)
    if not wanted <= allowed:
        forbidden = ", ".join(sorted(wanted - allowed))
        raise IllegalFeedTransition(f"cannot go from {forbidden} to {target}")
    return wanted


def in_states(column: Any, states: Iterable[StrEnum]) -> ColumnElement[bool]:
    """``column`` in ``states``, spelled out as equalities."""
    return or_(*(column == state.value for state in sorted(states)))


@dataclass(frozen=True, slots=True)
class Move:
    operation: str
    sources: frozenset[SubmissionState]
    target: SubmissionState

    def pairs(self) -> frozenset[tuple[SubmissionState, SubmissionState]]:
        return frozenset((source, self.target) for source in self.sources)


S = SubmissionState
# Open: a state something can still happen in (a claim, a release, a sweep).
OPEN = frozenset(state for state, nexts in TRANSITIONS.items() if nexts)
UPLOAD = Move(
    "record_uploaded", sources_in(TRANSITIONS, S.UPLOADED, {S.BUILT, S.UPLOADED}), S.UPLOADED
)
CREATING = Move("record_creating", sources_in(TRANSITIONS, S.CREATING), S.CREATING)
CREATED = Move("record_created", sources_in(TRANSITIONS, S.CREATED), S.CREATED)
FOUND = Move("record_found", sources_in(TRANSITIONS, S.CREATED, {S.CREATING}), S.CREATED)
NOT_TAKEN = Move("record_not_taken", sources_in(TRANSITIONS, S.UPLOADED, {S.CREATING}), S.UPLOADED)
NOT_CREATED = Move("record_not_created", sources_in(TRANSITIONS, S.NOT_CREATED), S.NOT_CREATED)
REFUSED = Move("record_refused", sources_in(TRANSITIONS, S.NOT_CREATED), S.NOT_CREATED)
DONE = Move("record_report", sources_in(TRANSITIONS, S.DONE), S.DONE)
FATAL = Move("record_fatal", sources_in(TRANSITIONS, S.FATAL), S.FATAL)
MOVES = (UPLOAD, CREATING, CREATED, FOUND, NOT_TAKEN, NOT_CREATED, REFUSED, DONE, FATAL)
