"""A refused request: every field that was wrong and why, the same for every feature's doors."""

from __future__ import annotations

from dataclasses import dataclass

from domain.shared.errors import FieldError


@dataclass(frozen=True, slots=True)
class Rejected:
    errors: tuple[FieldError, ...]
    # The platform's id is taken by a different request (HTTP 409, not 422).
    conflict: bool = False

    @property
    def message(self) -> str:
        return "; ".join(f"{e.field}: {e.reason}" for e in self.errors)
