"""Every reason in one answer: a request whose shape is refused is still checked by the rules
(an unknown order item, more than was ordered) on what could be read, so the platform fixes a
bad date and a bad quantity with one round trip instead of two.

The rules need a whole command, so the fields the model refused are stood in for (a stand-in
of the model's choosing, its ``placeholders``) and the lines it refused are left out; the rules'
refusals of a stood-in field, or of a line left out, are dropped: they would be about the
stand-in, not the request. The account and the order are never stood in for (the rules have
nothing to check without them); nor is any other field with no stand-in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from domain.shared import FieldError
from workers.doors.limits import MAX_ITEMS, capped

M = TypeVar("M", bound=BaseModel)
_LINE = re.compile(r"^lines\[(\d+)\]")
_ROOT = re.compile(r"^[^.\[]*")
_WHOLE = frozenset({"body", "message"})  # the request refused as a whole (too deep, no object)


@dataclass(frozen=True, slots=True)
class Readable(Generic[M]):
    """The request as the rules can check it, and what of their refusals to keep."""

    request: M
    stood_in: frozenset[str]  # top-level fields whose refusals are dropped
    lines: tuple[int, ...] | None  # the request's index of each line kept; None: none checked
    some_left_out: bool = False  # lines were left out: the rules' word on "lines" is dropped
    of_every_line: frozenset[str] = frozenset()  # fields the rules check against all lines

    def kept(self, errors: Sequence[FieldError]) -> list[FieldError]:
        """The rules' refusals that are about the request, with each line's own index."""
        found = []
        for error in errors:
            root = _ROOT.match(error.field)
            if root is None or root.group() in self.stood_in:
                continue
            if self.some_left_out and root.group() in self.of_every_line:
                continue  # checked against the lines kept, not the lines asked
            line = _LINE.match(error.field)
            if root.group() == "lines":
                if self.lines is None or (line is None and error.field != "lines"):
                    continue
                if line is not None:
                    index = self.lines[int(line.group(1))]
                    error = FieldError(f"lines[{index}]{error.field[line.end() :]}", error.reason)
                elif self.some_left_out:
                    continue  # about the lines as a whole, which the request does not hold
            found.append(error)
        return found


def readable(
    model: type[M],
    data: Any,
    refused: Sequence[FieldError],
    placeholders: Mapping[str, Any],
    of_every_line: frozenset[str] = frozenset(),
) -> Readable[M] | None:
    """``data`` as ``model`` with its refused fields stood in for and its refused lines left
    out, or None when the rules cannot be asked (the account or the order refused, a field
    with no stand-in, a body that is no object)."""
    if not isinstance(data, Mapping) or any(e.field in _WHOLE for e in refused):
        return None
    fields = model.model_fields
    roots = {_root(error.field) for error in refused}
    known = {key: value for key, value in data.items() if key in fields}
    stood_in = set()
    for root in roots:
        if root not in fields:
            continue  # an unknown field: left out already
        if root == "lines":
            continue
        if root not in placeholders:
            return None
        known[root] = placeholders[root]
        stood_in.add(root)
    lines: tuple[int, ...] | None = None
    some_left_out = False
    if "lines" in roots:
        given = data.get("lines")
        whole = any(error.field == "lines" for error in refused)
        if whole or not isinstance(given, list) or len(given) > MAX_ITEMS:
            known.pop("lines", None)  # no line is checked
        else:
            bad = {int(m.group(1)) for e in refused if (m := _LINE.match(e.field)) is not None}
            lines = tuple(index for index in range(len(given)) if index not in bad)
            known["lines"] = [given[index] for index in lines]
            some_left_out = len(lines) < len(given)
    elif isinstance(data.get("lines"), list):
        lines = tuple(range(len(data["lines"])))
    else:
        lines = ()
    try:
        request = model.model_validate(known)
    except ValidationError:
        return None  # a rule of two fields, or a line kept that needs one left out
    return Readable(request, frozenset(stood_in), lines, some_left_out, of_every_line)


def all_reasons(
    refused: Sequence[FieldError],
    found: Readable[M] | None,
    rules: Callable[[M], Sequence[FieldError]],
) -> tuple[FieldError, ...]:
    """The model's refusals, then the rules' on what was read (at most ``MAX_ERRORS`` in all)."""
    if found is None:
        return tuple(refused)
    return capped([*refused, *found.kept(rules(found.request))])


def _root(field: str) -> str:
    match = _ROOT.match(field)
    return match.group() if match else field
