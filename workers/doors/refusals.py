"""Refusals as the channel words them: pydantic's validation errors become ``FieldError``s with a
path (``lines[0].quantity``) and a reason a person can act on, never a type name.

A model says how its fields' refusals read with ``Says`` in their ``Annotated`` metadata; its
own checks (rules pydantic cannot state) raise ``refused(reason)`` from a validator.
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from domain.fulfilments import FieldError
from workers.doors.limits import MAX_ERRORS, MAX_ITEMS, capped, printable

M = TypeVar("M", bound=BaseModel)
UNKNOWN_FIELD = "unknown field"
_REFUSED = "refused"  # the error type of the channel's own checks: their reason is their message

# Pydantic's checks, in the channel's words (a field's ``Says.invalid`` takes precedence).
_GENERIC = {
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "list_type": "must be a list",
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
}
_REQUIRED = frozenset({"missing", "string_too_short", "too_short"})
_TOO_LONG = frozenset({"string_too_long", "too_long"})


@dataclass(frozen=True, slots=True)
class Says:
    """How a field's refusals read: ``required`` when it is missing, null or blank; ``invalid``
    for any other refusal by pydantic's checks (without it, a reason by the kind of error)."""

    required: str = "required"
    invalid: str | None = None


def refused(reason: str, *, field: str | None = None) -> PydanticCustomError:
    """A refusal by one of the model's own checks, raised in a validator; ``field`` names the
    field it is about when that is not the one being validated (a rule over two fields)."""
    context: dict[str, Any] = {"reason": reason}
    if field is not None:
        context["field"] = field
    return PydanticCustomError(_REFUSED, "{reason}", context)


def validated(model: type[M], data: Any, *, root: str) -> M | tuple[FieldError, ...]:
    """``data`` as ``model``, or its refusals: unknown fields first (those of the top level
    sorted by name), at most ``MAX_ERRORS`` and a last entry counting the others. Unknown
    fields are taken out before pydantic sees the data, and only the first ``MAX_ERRORS`` of
    an object are named: pydantic makes an error per unknown field, so a body of a million of
    them would cost a million errors, and a name it cannot read (a lone surrogate) would
    refuse the whole body instead of the field."""
    known, unknown, dropped = _screened(data, model, "")
    try:
        found = model.model_validate(known)
    except ValidationError as exc:
        return capped((*unknown, *field_errors(exc, model, root=root)), also=dropped)
    if unknown:
        return capped(unknown, also=dropped)
    return found


def _screened(data: Any, model: type[BaseModel], where: str) -> tuple[Any, list[FieldError], int]:
    """``data`` without the fields ``model`` does not know (also in the objects of its lists
    of models, up to ``MAX_ITEMS`` items: a longer list is refused without reading it), the
    first ``MAX_ERRORS`` of them by name as refusals, and how many others there were."""
    if not isinstance(data, Mapping):
        return data, [], 0
    fields = model.model_fields
    names = [key for key in data if key not in fields]
    first = heapq.nsmallest(MAX_ERRORS, names, key=str)
    unknown = [FieldError(where + printable(str(key)), UNKNOWN_FIELD) for key in first]
    dropped = len(names) - len(first)
    known = {key: value for key, value in data.items() if key in fields}
    for name, value in known.items():
        item = _model_in(_list_item(fields[name].annotation))
        if item is None or not isinstance(value, list) or len(value) > MAX_ITEMS:
            continue
        items = [_screened(each, item, f"{where}{name}[{i}].") for i, each in enumerate(value)]
        known[name] = [each for each, _, _ in items]
        unknown += [error for _, errors, _ in items for error in errors]
        dropped += sum(count for _, _, count in items)
    return known, unknown, dropped


def field_errors(
    exc: ValidationError, model: type[BaseModel], *, root: str
) -> tuple[FieldError, ...]:
    """Every refusal in ``exc``, unknown top-level fields first (sorted); ``root`` names the
    whole input (``body``, ``message``) when it is not an object at all."""
    unknown, others = [], []
    for error in exc.errors(include_url=False):
        found = FieldError(_path(error, root), _reason(error, _says(model, error["loc"])))
        if found.reason == UNKNOWN_FIELD and len(error["loc"]) == 1:
            unknown.append(found)
        else:
            others.append(found)
    return (*sorted(unknown, key=lambda e: e.field), *others)


def param_errors(errors: Iterable[ErrorDetails]) -> tuple[FieldError, ...]:
    """Refusals of a request's parameters (a path id, a header), each named by the parameter."""
    return capped(
        [
            FieldError(
                printable(str(error["loc"][-1])) if error["loc"] else "request",
                _reason(error, Says()),
            )
            for error in errors
        ]
    )


def _path(error: ErrorDetails, root: str) -> str:
    named = (error.get("ctx") or {}).get("field")
    if error["type"] == _REFUSED and named:
        return str(named)
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = printable(str(part))
            path += f".{name}" if path else name
    return path or root


def _reason(error: ErrorDetails, says: Says) -> str:
    kind = error["type"]
    if kind == _REFUSED:
        return str((error.get("ctx") or {})["reason"])
    if kind == "extra_forbidden":
        return UNKNOWN_FIELD
    if kind in _REQUIRED or (kind == "string_type" and error["input"] is None):
        return says.required
    if kind == "less_than_equal":
        return f"must be at most {(error.get('ctx') or {})['le']}"
    if says.invalid is not None:
        return says.invalid
    if kind in _TOO_LONG:
        return f"longer than {(error.get('ctx') or {})['max_length']} characters"
    return _GENERIC.get(kind, error["msg"])


def _says(model: type[BaseModel], loc: tuple[int | str, ...]) -> Says:
    """The ``Says`` of the field (or list item) at ``loc``, walking the model's annotations."""
    says, annotation = Says(), cast(Any, model)
    for part in loc:
        if isinstance(part, int):
            item = _list_item(annotation)
            if item is None:
                return Says()
            annotation, says = item, _said(item, ())
            continue
        found = _model_in(annotation)
        if found is None or part not in found.model_fields:
            return Says()
        info = found.model_fields[part]
        annotation, says = info.annotation, _said(info.annotation, info.metadata)
    return says


def _said(annotation: Any, metadata: Iterable[Any]) -> Says:
    """The first ``Says`` in a field's metadata, or in an ``Annotated`` within its type."""
    for meta in metadata:
        if isinstance(meta, Says):
            return meta
    if get_origin(annotation) is Annotated:
        _, *extras = get_args(annotation)
        return _said(None, extras)
    for arg in get_args(annotation):
        if get_origin(arg) is Annotated:
            return _said(arg, ())
    return Says()


def _list_item(annotation: Any) -> Any:
    if get_origin(annotation) is Annotated:
        return _list_item(get_args(annotation)[0])
    if get_origin(annotation) is list:
        return get_args(annotation)[0]
    for arg in get_args(annotation):
        item = _list_item(arg)
        if item is not None:
            return item
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
