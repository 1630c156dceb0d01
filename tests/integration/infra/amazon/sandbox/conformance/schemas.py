"""Amazon's model definitions as a strict validator for the sandbox's answers.

Schemas are never typed here: each response is checked against the schema the model declares
for that operation and status, with ``#/definitions/...`` resolved inside the loaded model.
Validation is strict: every object schema of the model is given ``additionalProperties:
false`` (a programmatic copy), so a misspelt or invented field fails, not only a missing one.
Amazon's own sandbox examples pass the same strict check, which shows the validator accepts
what Amazon sends. A served operation without a case (``cases``) fails the registry test.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from infra.amazon.models import load_model, operations

SANDBOX_MODELS = ("orders2026", "ordersV0", "feeds", "financesV0", "reports", "notifications")
_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.tzinfo is not None
    return True


def _closed(node: Any, *, part: bool = False) -> Any:
    """A copy of a model where every object schema with properties forbids other properties.

    Not the parts of an ``allOf`` (Notifications' ``EventFilter`` is four definitions): each
    part holds some of the properties, and a closed part would refuse the others' (a part that
    is a ``$ref`` is left open where it is defined: ``_allof_parts``)."""
    if isinstance(node, dict):
        closed: dict[str, Any] = {}
        for key, value in node.items():
            if key == "allOf" and isinstance(value, list):
                closed[key] = [_closed(v, part=True) for v in value]
            else:
                closed[key] = _closed(value)
        open_schema = "additionalProperties" in node or not isinstance(node.get("properties"), dict)
        if not (part or open_schema):
            closed["additionalProperties"] = False
        return closed
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


def _allof_parts(node: Any) -> set[str]:
    """The names of the definitions an ``allOf`` anywhere in the model refers to."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "allOf" and isinstance(value, list):
                found |= {
                    v["$ref"].rsplit("/", 1)[-1]
                    for v in value
                    if isinstance(v, dict) and "$ref" in v
                }
            found |= _allof_parts(value)
    elif isinstance(node, list):
        for value in node:
            found |= _allof_parts(value)
    return found


def _closed_model(model: dict[str, Any]) -> dict[str, Any]:
    closed: dict[str, Any] = _closed(model)
    for name in _allof_parts(model):
        closed["definitions"][name] = _closed(model["definitions"][name], part=True)
    return closed


def _registry() -> Registry:
    registry: Registry = Registry()
    for name in SANDBOX_MODELS:
        contents = _closed_model(copy.deepcopy(load_model(name)))
        resource = Resource.from_contents(contents, default_specification=DRAFT4)
        registry = registry.with_resource(f"urn:spapi:{name}", resource)
    return registry


STRICT = _registry()


def declares_body(operation_key: str, status: int) -> bool:
    """False for answers the model gives no schema (confirmShipment's 204, cancelFeed's 200)."""
    return "schema" in operations()[operation_key].spec["responses"][str(status)]


def response_schema(operation_key: str, status: int) -> dict[str, Any]:
    """The model's schema for this operation's response, as a ref into the loaded model."""
    op = operations()[operation_key]
    declared = op.spec["responses"][str(status)]["schema"]
    ref = declared["$ref"]
    assert ref.startswith("#/definitions/"), ref
    return {"$ref": f"urn:spapi:{op.model}{ref}"}


def assert_conforms(operation_key: str, status: int, body: Any) -> None:
    validator = Draft4Validator(
        response_schema(operation_key, status), registry=STRICT, format_checker=_formats
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]
    )
