"""Refusals as the channel words them: pydantic's validation errors become ``FieldError``s with a
path (``lines[0].quantity``) and a reason a person can act on, never a type name.

A model says how its fields' refusals read with ``Says`` in their ``Annotated`` metadata; its
own checks (rules pydantic cannot state) raise ``refused(reason)`` from a validator.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, cast, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from domain.fulfilments import FieldError

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


def _path(error: ErrorDetails, root: str) -> str:
    named = (error.get("ctx") or {}).get("field")
    if error["type"] == _REFUSED and named:
        return str(named)
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path or root


def _reason(error: ErrorDetails, says: Says) -> str:
    kind = error["type"]
    if kind == _REFUSED:
        return str((error.get("ctx") or {})["reason"])
    if kind == "extra_forbidden":
        return UNKNOWN_FIELD
    if kind in _REQUIRED or (kind == "string_type" and error["input"] is None):
        return says.required
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
